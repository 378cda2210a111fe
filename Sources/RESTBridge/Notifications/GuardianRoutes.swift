import Foundation
import Hub

/// Links between parents and students (mirrored by backends and staff), and a parent's children.
public enum GuardianRoutes {
    public static func register(on router: inout Router, context: APIContext) {
        let guardians = GuardianStore(pool: context.pool)
        context.route(&router, .GET, ["/api/v1/users/me/children/", "/api/users/me/children/"]) { request in
            let user = try request.requireUser()
            return .json(.ok, list(try await guardians.children(of: user.id)))
        }
        context.route(&router, .GET, ["/api/v1/users/{student_id}/guardians/"], access: .userOrService) { request in
            let studentID = try id(request, "student_id")
            if let user = request.caller.user, !user.role.isStaff, user.id != studentID {
                throw APIError.forbidden("Only staff, the student and backends may list guardians")
            }
            return .json(.ok, list(try await guardians.guardians(of: studentID)))
        }
        context.route(&router, .POST, ["/api/v1/users/{student_id}/guardians/"], access: .staffOrService) { request in
            let studentID = try id(request, "student_id")
            var errors = FieldErrors()
            let parentID = try request.body().integer("parent", &errors, required: true)
            try errors.throwIfAny()
            let created: Bool
            switch try await guardians.link(parent: parentID!, student: studentID) {
            case .success(let new): created = new
            case .failure(.noStudent): throw APIError.notFound("Student")
            case .failure(.noParent): throw APIError.validation([("parent", ["No user with this id."])])
            case .failure(.notAParent): throw APIError.validation([("parent", ["This user is not a PARENT."])])
            case .failure(.sameUser): throw APIError.validation([("parent", ["A student cannot be their own guardian."])])
            }
            return .json(created ? .created : .ok, Array(#"{"student":\#(studentID),"parent":\#(parentID!)}"#.utf8))
        }
        context.route(&router, .DELETE, ["/api/v1/users/{student_id}/guardians/{parent_id}/"], access: .staffOrService) { request in
            let studentID = try id(request, "student_id"), parentID = try id(request, "parent_id")
            guard try await guardians.unlink(parent: parentID, student: studentID) else { throw APIError.notFound("Guardian link") }
            return HTTPResponse(status: .noContent)
        }
    }

    private static func id(_ request: APIRequest, _ name: String) throws(APIError) -> Int64 {
        guard let value = request.http.parameter(name).flatMap({ Int64($0) }), value > 0 else { throw APIError.notFound("User") }
        return value
    }

    private static func list(_ users: [User]) -> [UInt8] {
        resultsJSON(users) { user, json in user.write(to: &json) }
    }
}
