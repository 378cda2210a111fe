import Foundation
import Hub

/// Links between parents and students (mirrored by backends and staff), and a parent's children.
public enum GuardianRoutes {
    public static func register(on router: inout Router, context: APIContext) {
        let pool = context.pool
        context.route(&router, .GET, ["/api/v1/users/me/children/", "/api/users/me/children/"]) { request in
            let user = try request.requireUser()
            return .json(.ok, try await users(pool, """
                SELECT \(User.columns) FROM users WHERE id IN (SELECT student_id FROM guardians WHERE parent_id = $1) ORDER BY id
                """, [String(user.id)]))
        }
        context.route(&router, .GET, ["/api/v1/users/{student_id}/guardians/"], access: .userOrService) { request in
            let studentID = try id(request, "student_id")
            if let user = request.caller.user, !user.role.isStaff, user.id != studentID {
                throw APIError.forbidden("Only staff, the student and backends may list guardians")
            }
            return .json(.ok, try await users(pool, """
                SELECT \(User.columns) FROM users WHERE id IN (SELECT parent_id FROM guardians WHERE student_id = $1) ORDER BY id
                """, [String(studentID)]))
        }
        context.route(&router, .POST, ["/api/v1/users/{student_id}/guardians/"], access: .staffOrService) { request in
            let studentID = try id(request, "student_id")
            var errors = FieldErrors()
            let parentID = try request.body().integer("parent", &errors, required: true)
            try errors.throwIfAny()
            let roles = try await pool.run { connection in
                try connection.executePrepared("SELECT id, role FROM users WHERE id = ANY($1::bigint[])",
                                               ["{\(studentID),\(parentID!)}"]).rows
            }
            let role = Dictionary(uniqueKeysWithValues: roles.compactMap { row in row.int("id").map { (Int64($0), row.string("role") ?? "") } })
            guard role[studentID] != nil else { throw APIError.notFound("Student") }
            guard let parentRole = role[parentID!] else { throw APIError.validation([("parent", ["No user with this id."])]) }
            guard parentRole == "PARENT" else { throw APIError.validation([("parent", ["This user is not a PARENT."])]) }
            guard parentID != studentID else { throw APIError.validation([("parent", ["A student cannot be their own guardian."])]) }
            let created = try await pool.run { connection in
                try connection.executePrepared("""
                    INSERT INTO guardians (parent_id, student_id) VALUES ($1, $2) ON CONFLICT DO NOTHING
                    """, [String(parentID!), String(studentID)]).affectedRows
            }
            return .json(created == 1 ? .created : .ok, Array(#"{"student":\#(studentID),"parent":\#(parentID!)}"#.utf8))
        }
        context.route(&router, .DELETE, ["/api/v1/users/{student_id}/guardians/{parent_id}/"], access: .staffOrService) { request in
            let studentID = try id(request, "student_id"), parentID = try id(request, "parent_id")
            let removed = try await pool.run { connection in
                try connection.executePrepared("DELETE FROM guardians WHERE parent_id = $1 AND student_id = $2",
                                               [String(parentID), String(studentID)]).affectedRows
            }
            guard removed == 1 else { throw APIError.notFound("Guardian link") }
            return HTTPResponse(status: .noContent)
        }
    }

    private static func id(_ request: APIRequest, _ name: String) throws(APIError) -> Int64 {
        guard let value = request.http.parameter(name).flatMap({ Int64($0) }), value > 0 else { throw APIError.notFound("User") }
        return value
    }

    private static func users(_ pool: DatabasePool, _ sql: String, _ parameters: [String?]) async throws -> [UInt8] {
        let list = try await pool.run { connection in
            try connection.executePrepared(sql, parameters).rows.compactMap(User.init(row:))
        }
        var json = JSONWriter(capacity: 256 + list.count * 300)
        json.beginObject()
        json.field("count", list.count)
        json.key("results")
        json.beginArray()
        for user in list { user.write(to: &json) }
        json.endArray()
        json.endObject()
        return json.bytes
    }
}
