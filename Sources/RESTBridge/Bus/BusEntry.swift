import Channels
import Foundation
import Hub

/// How `BusItem`s become `hub_bus` rows and back (docs/bus.md). One row per message, not per
/// recipient: a message names its target (a user, a room, everyone); an event batch's row lists
/// its event ids and each node reads the notifications it has sessions for.
enum BusEntry {
    /// The writer's rows for `jsonb_to_recordset`: messages, disconnects and room removals.
    /// Presence goes through `presenceJSON` (it also updates `hub_presence`).
    static func rowsJSON(_ items: [BusItem]) -> String? {
        var json = JSONWriter(capacity: 256)
        var count = 0
        json.beginArray()
        for item in items {
            switch item {
            case .messages(let messages):
                for message in messages {
                    row(&json, kind: "message", target: message.target, notificationID: message.notificationID,
                        payload: String(decoding: message.json, as: UTF8.self))
                    count += 1
                }
            case .disconnect(let userID, let code):
                row(&json, kind: "disconnect", target: .user(userID), payload: String(code.rawValue))
                count += 1
            case .roomRemoved(let userID, let room):
                row(&json, kind: "room_removed", target: .user(userID), payload: room)
                count += 1
            case .presence, .nodeGone:
                continue
            }
        }
        json.endArray()
        return count == 0 ? nil : String(decoding: json.bytes, as: UTF8.self)
    }

    private static func row(_ json: inout JSONWriter, kind: String, target: ChannelTarget, notificationID: Int64? = nil,
                            payload: String)
    {
        json.beginObject()
        json.field("kind", kind)
        switch target {
        case .user(let id): json.key("users"); json.beginArray(); json.int(id); json.endArray()
        case .room(let name): json.field("room", name)
        case .everyone: json.field("everyone", true)
        }
        if let notificationID { json.key("notification_id"); json.int(notificationID) }
        json.field("payload", payload)
        json.endObject()
    }

    /// This node's presence changes of a flush, the last state of each (user, room) only, in the
    /// order first seen; `room` "" is the user's own online state.
    static func presenceJSON(_ items: [BusItem]) -> String? {
        var order: [PresenceKey] = []
        var last: [PresenceKey: PresenceChange] = [:]
        for case .presence(_, let changes) in items {
            for change in changes {
                let key = PresenceKey(userID: change.member.userID, room: change.room ?? "")
                if last.updateValue(change, forKey: key) == nil { order.append(key) }
            }
        }
        guard !order.isEmpty else { return nil }
        var json = JSONWriter(capacity: 64 * order.count)
        json.beginArray()
        for key in order {
            let change = last[key]!
            json.beginObject()
            json.key("user_id"); json.int(key.userID)
            json.field("room", key.room)
            json.field("name", change.member.name)
            json.field("role", change.member.role)
            json.field("present", change.present)
            json.endObject()
        }
        json.endArray()
        return String(decoding: json.bytes, as: UTF8.self)
    }

    private struct PresenceKey: Hashable {
        let userID: Int64
        let room: String
    }

    /// Presence changes as `presenceJSON` wrote them (a `presence` row's payload).
    static func presenceChanges(_ payload: String) -> [PresenceChange] {
        guard let list = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [[String: Any]] else { return [] }
        return list.compactMap { entry in
            guard let userID = JSONNumber.integer(entry["user_id"]), let present = entry["present"] as? Bool else { return nil }
            let room = entry["room"] as? String ?? ""
            let member = PresenceMember(userID: userID, name: entry["name"] as? String ?? "", role: entry["role"] as? String ?? "")
            return PresenceChange(room: room.isEmpty ? nil : room, member: member, present: present)
        }
    }

    /// A `message`, `disconnect`, `room_removed`, `presence` or `node_gone` row as the item it was
    /// (`events` rows are read with their notifications by the reader).
    static func item(kind: String, node: String, users: [Int64], room: String?, everyone: Bool,
                     notificationID: Int64?, payload: String) -> BusItem?
    {
        switch kind {
        case "message":
            let target: ChannelTarget
            if everyone {
                target = .everyone
            } else if let room {
                target = .room(room)
            } else {
                return .messages(users.map { ChannelMessage(.user($0), json: Array(payload.utf8), notificationID: notificationID) })
            }
            return .messages([ChannelMessage(target, json: Array(payload.utf8), notificationID: notificationID)])
        case "disconnect":
            guard let userID = users.first, let code = UInt16(payload).flatMap(CloseCode.init(rawValue:)) else { return nil }
            return .disconnect(userID: userID, code: code)
        case "room_removed":
            guard let userID = users.first else { return nil }
            return .roomRemoved(userID: userID, room: payload)
        case "presence":
            return .presence(node: node, presenceChanges(payload))
        case "node_gone":
            return .nodeGone(payload)
        default:
            return nil
        }
    }

    /// `{1,2,3}` (a bigint[] as text) as integers.
    static func integers(_ text: String?) -> [Int64] {
        guard let text else { return [] }
        return text.trimmingCharacters(in: CharacterSet(charactersIn: "{}")).split(separator: ",").compactMap { Int64($0) }
    }
}
