import Channels
import Foundation
import Hub

/// `/api/v1/admin/…`: what the operator console (`/admin/`) shows and does, for staff and service
/// keys, with the same checks as every other route.
public enum AdminRoutes {
    public struct Node: Sendable {
        public let id: String
        public let version: String
        public let connections: @Sendable () -> Int
        /// The bus's view (nil with one node): its state, lag and the nodes holding a lease.
        public let bus: @Sendable () -> PostgresBus.Status?

        public init(id: String, version: String, connections: @escaping @Sendable () -> Int,
                    bus: @escaping @Sendable () -> PostgresBus.Status? = { nil })
        {
            self.id = id
            self.version = version
            self.connections = connections
            self.bus = bus
        }
    }

    public static func register(on router: inout Router, context: APIContext, store: AdminStore, hub: ChannelHub, node: Node,
                                wakeOutbox: @escaping @Sendable () -> Void)
    {
        context.route(&router, .GET, ["/api/v1/admin/overview/"], access: .staffOrService) { _ in
            let presence = hub.presenceSummary(limit: 10)
            let names = try await store.names(presence.users.map(\.userID))
            let outbox = try await store.outbox()
            let bus = node.bus()
            let usersByNode = bus == nil ? [:] : try await store.onlineUsersByNode()
            var json = JSONWriter(capacity: 2048)
            json.beginObject()
            json.key("nodes")
            json.beginArray()
            json.beginObject()
            json.field("id", node.id)
            json.field("this", true)
            json.field("version", node.version)
            json.field("sessions", hub.sessionCount)
            json.field("connections", node.connections())
            json.key("bus"); if let bus { json.string(bus.mode.rawValue) } else { json.string("memory") }
            json.key("bus_lag_ms"); if let bus { json.int(bus.lagMillis) } else { json.null() }
            json.field("online_users", usersByNode[node.id] ?? presence.onlineUsers)
            json.endObject()
            for peer in bus?.peers ?? [] where peer.nodeID != node.id {
                json.beginObject()
                json.field("id", peer.nodeID)
                json.field("this", false)
                json.key("address"); if let address = peer.address { json.string(address) } else { json.null() }
                json.key("lease_left_ms"); json.int(peer.leaseLeftMillis)
                // As of the peer's last lease renewal (every third of a lease).
                json.field("version", peer.version)
                json.field("sessions", peer.sessions)
                json.key("bus_lag_ms"); json.int(peer.busLagMillis)
                json.field("online_users", usersByNode[peer.nodeID] ?? 0)
                json.endObject()
            }
            json.endArray()
            json.field("sessions", hub.sessionCount)
            json.field("online_users", presence.onlineUsers)
            json.key("busiest_users")
            json.beginArray()
            for (id, sessions) in presence.users {
                json.beginObject()
                json.key("user_id"); json.int(id)
                json.field("name", names[id] ?? "")
                json.field("sessions", sessions)
                json.endObject()
            }
            json.endArray()
            json.key("busiest_rooms")
            json.beginArray()
            for (room, members) in presence.rooms {
                json.beginObject()
                json.field("room", room)
                json.field("members_online", members)
                json.endObject()
            }
            json.endArray()
            json.key("outbox")
            json.beginArray()
            for row in outbox {
                json.beginObject()
                json.field("channel", row.string("channel") ?? "")
                for name in ["due", "later", "failed"] { json.field(name, row.int(name) ?? 0) }
                json.endObject()
            }
            json.endArray()
            json.endObject()
            return .json(.ok, json.bytes)
        }
        context.route(&router, .GET, ["/api/v1/admin/deliveries/"], access: .staffOrService) { request in
            let status = (request.http.query["status"] ?? "FAILED").uppercased()
            guard ["FAILED", "CANCELLED", "PENDING", "RETRY", "SENDING", "DELIVERED"].contains(status) else {
                throw APIError.validation([("status", ["One of FAILED, CANCELLED, PENDING, RETRY, SENDING, DELIVERED."])])
            }
            let rows = try await store.deliveries(status: status, limit: 100)
            return .json(.ok, resultsJSON(rows) { row, json in
                json.beginObject()
                json.key("id"); json.int(Int64(row.int("id") ?? 0))
                json.key("notification_id"); json.int(Int64(row.int("notification_id") ?? 0))
                for name in ["channel", "destination", "status", "last_error", "updated_at", "title", "email"] {
                    json.key(name)
                    if let value = row.string(name) { json.string(value) } else { json.null() }
                }
                json.field("attempts", row.int("attempts") ?? 0)
                json.endObject()
            })
        }
        for (action, change) in [("retry", AdminStore.Change.retry), ("cancel", .cancel)] {
            context.route(&router, .POST, ["/api/v1/admin/deliveries/{id}/\(action)/"], access: .staffOrService) { request in
                guard let id = request.http.parameter("id").flatMap({ Int64($0) }), id > 0,
                      let changed = try await store.change(change, deliveryID: id)
                else { throw APIError.notFound("Delivery") }
                guard changed else {
                    throw APIError(.conflict, code: "INVALID_STATE",
                                   message: action == "retry" ? "Only a failed or cancelled delivery can be retried"
                                       : "Only a delivery not yet sent can be cancelled")
                }
                if change == .retry { wakeOutbox() }
                return .json(.ok, Array(#"{"id":\#(id),"status":"\#(change == .retry ? "PENDING" : "CANCELLED")"}"#.utf8))
            }
        }
        context.route(&router, .GET, ["/api/v1/admin/events/"], access: .staffOrService) { _ in
            let rows = try await store.recentEvents(limit: 20)
            return .json(.ok, resultsJSON(rows) { row, json in
                json.beginObject()
                json.key("id"); json.int(Int64(row.int("id") ?? 0))
                json.field("type", row.string("event_type") ?? "")
                json.field("created_at", row.string("created_at") ?? "")
                json.key("recipients"); json.raw(Array((row.string("recipients") ?? "{}").utf8))
                json.field("notifications", row.int("notifications") ?? 0)
                json.field("deliveries", row.int("deliveries") ?? 0)
                json.endObject()
            })
        }
    }
}
