import Channels
import Foundation
import Hub

/// Room membership (mirrored by backends and staff) and presence over REST.
public enum RoomAndPresenceRoutes {
    public static func register(on router: inout Router, context: APIContext, hub: ChannelHub) {
        let rooms = RoomStore(pool: context.pool)
        context.route(&router, .GET, ["/api/v1/rooms/{room}/members/"], access: .userOrService) { request in
            let room = try roomName(request)
            try await requireMemberOrStaff(request, room, rooms)
            let ids = try await rooms.members(of: room)
            var json = JSONWriter()
            json.beginObject()
            json.field("room", room)
            json.field("count", ids.count)
            json.key("members")
            json.beginArray()
            for id in ids {
                json.beginObject()
                json.key("user_id"); json.int(id)
                json.field("online", hub.isOnline(id))
                json.endObject()
            }
            json.endArray()
            json.endObject()
            return .json(.ok, json.bytes)
        }
        context.route(&router, .POST, ["/api/v1/rooms/{room}/members/"], access: .staffOrService) { request in
            let room = try roomName(request)
            let ids = try userIDs(request)
            let added = try await rooms.add(ids, to: room)
            return .json(.created, Array(#"{"room":"\#(room)","added":\#(added)}"#.utf8))
        }
        context.route(&router, .DELETE, ["/api/v1/rooms/{room}/members/{user_id}/"], access: .staffOrService) { request in
            let room = try roomName(request)
            guard let userID = request.http.parameter("user_id").flatMap({ Int64($0) }) else { throw APIError.notFound("Member") }
            guard try await rooms.remove(userID, from: room) else { throw APIError.notFound("Member") }
            hub.removeFromRoom(userID: userID, room: room)
            return HTTPResponse(status: .noContent)
        }
        context.route(&router, .POST, ["/api/v1/admin/users/{id}/disconnect/"], access: .staffOrService) { request in
            guard let id = request.http.parameter("id").flatMap({ Int64($0) }) else { throw APIError.notFound("User") }
            hub.disconnect(userID: id, code: .serviceRestart)
            return .json(.accepted, Array(#"{"user_id":\#(id),"close_code":1012}"#.utf8))
        }
        context.route(&router, .GET, ["/api/v1/presence/users/{id}/"], access: .userOrService) { request in
            guard let id = request.http.parameter("id").flatMap({ Int64($0) }) else { throw APIError.notFound("User") }
            var json = JSONWriter()
            writePresence(id, hub: hub, to: &json)
            return .json(.ok, json.bytes)
        }
        context.route(&router, .POST, ["/api/v1/presence/query/"], access: .userOrService) { request in
            let ids = try userIDs(request)
            var json = JSONWriter()
            json.beginObject()
            json.key("results")
            json.beginArray()
            for id in ids { writePresence(id, hub: hub, to: &json) }
            json.endArray()
            json.endObject()
            return .json(.ok, json.bytes)
        }
        context.route(&router, .GET, ["/api/v1/presence/rooms/{room}/"], access: .userOrService) { request in
            let room = try roomName(request)
            try await requireMemberOrStaff(request, room, rooms)
            let members = hub.members(of: room)
            var json = JSONWriter()
            json.beginObject()
            json.field("room", room)
            json.field("count", members.count)
            json.key("members")
            ChannelHub.writeMembers(members, to: &json)
            json.endObject()
            return .json(.ok, json.bytes)
        }
    }

    /// Service keys and staff see any room; a user only the rooms they belong to.
    private static func requireMemberOrStaff(_ request: APIRequest, _ room: String, _ rooms: RoomStore) async throws {
        if let user = request.caller.user, !user.role.isStaff, try await !rooms.isMember(user.id, of: room) {
            throw APIError.forbidden("Only members and staff may see this room")
        }
    }

    private static func roomName(_ request: APIRequest) throws(APIError) -> String {
        guard let room = request.http.parameter("room"), RoomName.isValid(room) else {
            throw APIError.validation([("room", ["Room names are kind:id, such as class:5 or khatma:12."])])
        }
        return room
    }

    private static func userIDs(_ request: APIRequest) throws(APIError) -> [Int64] {
        let body = try request.body()
        var errors = FieldErrors()
        let ids = body.integers("user_ids", &errors, maxCount: 10_000,
                                message: "A non-empty list of at most 10000 positive user ids is required.")
        if errors.isEmpty && !ids.allSatisfy({ $0 > 0 }) {
            errors.add("user_ids", "Every user id must be a positive integer.")
        }
        try errors.throwIfAny()
        return ids
    }

    private static func writePresence(_ id: Int64, hub: ChannelHub, to json: inout JSONWriter) {
        json.beginObject()
        json.field("user_id", Int(id))
        json.field("online", hub.isOnline(id))
        json.key("last_seen")
        if let seen = hub.lastSeen(id) { json.string(WallClock.iso8601(millis: seen)) } else { json.null() }
        json.endObject()
    }
}

/// The channel's dependencies built from the store and the token code.
public enum ChannelWiring {
    public static func dependencies(context: APIContext, store: NotificationStore) -> ChannelDependencies {
        let rooms = RoomStore(pool: context.pool)
        /// The token's signature and claims on the caller's thread (a few microseconds), then the
        /// user and their unread count from the handshakes' shared batch.
        @Sendable func verify(_ token: String, _ done: @escaping @Sendable (Result<ChannelUser, TokenRejection>) -> Void) {
            let claims: JWT.Claims
            do throws(JWT.Failure) {
                claims = try context.tokens.jwt.verify(token, as: .access)
            } catch {
                return done(.failure(error == .expired ? .expired : .invalid(error.message)))
            }
            store.userWithUnreadCount(id: claims.userID) { found in
                guard case .success(let found) = found else { return done(.failure(.unavailable)) }
                guard let (user, unread) = found, user.isActive else { return done(.failure(.invalid("User not found or inactive"))) }
                done(.success(ChannelUser(id: user.id, displayName: user.fullName.isEmpty ? user.email : user.fullName,
                                          role: user.role.rawValue, isStaff: user.role.isStaff,
                                          tokenExpiresAt: claims.expiresAt, unreadAtVerification: unread)))
            }
        }
        var dependencies = ChannelDependencies(
            verifyToken: { token in
                await withCheckedContinuation { continuation in verify(token) { continuation.resume(returning: $0) } }
            },
            canJoinRoom: { user, room in
                (try? await rooms.isMember(user.id, of: room)) ?? false
            },
            history: { userID, after, limit in
                try await store.history(userID: userID, after: after, limit: limit).map { StoredPush(id: $0.id, json: $0.push()) }
            },
            unreadCount: { userID in try await store.unreadCount(userID: userID) },
            markRead: { userID, ids in try await store.markRead(userID: userID, ids: ids) })
        dependencies.verifyTokenNow = verify
        dependencies.changeInbox = { userID, change in try await store.change(userID: userID, change) }
        return dependencies
    }
}
