import Foundation
import Hub

/// A message from the client, parsed and checked.
public enum ClientMessage: Equatable, Sendable {
    case heartbeat
    case auth(token: String)
    case resume(lastID: Int64)
    case markRead(ids: [Int64])
    case markAllRead
    /// `mark_seen {ids | up_to_id}`, `archive {id | ids}`, `unarchive`, `snooze {id | ids, until}`.
    case change(InboxChange)
    case subscribe(room: String)
    case unsubscribe(room: String)

    public enum ParseError: Error, Equatable, Sendable {
        case invalidJSON
        case unknownType(String)
        case invalidField(String)
    }

    public static func parse(_ bytes: [UInt8]) -> Result<ClientMessage, ParseError> {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
            return .failure(.invalidJSON)
        }
        guard let type = object["type"] as? String else { return .failure(.invalidField("type")) }
        // Fields may sit at the top level or inside "data".
        let fields = (object["data"] as? [String: Any]) ?? object
        func value(_ name: String) -> Any? { fields[name] ?? object[name] }
        switch type {
        case "heartbeat", "ping":
            return .success(.heartbeat)
        case "auth":
            guard let token = value("token") as? String, !token.isEmpty, token.utf8.count < 8192 else {
                return .failure(.invalidField("token"))
            }
            return .success(.auth(token: token))
        case "resume":
            guard let id = JSONNumber.integer(value("last_id"), acceptingStrings: true), id >= 0 else { return .failure(.invalidField("last_id")) }
            return .success(.resume(lastID: id))
        case "mark_read":
            if let id = JSONNumber.integer(value("id"), acceptingStrings: true) { return .success(.markRead(ids: [id])) }
            guard let ids = JSONNumber.integers(value("ids")), !ids.isEmpty, ids.count <= 1000 else {
                return .failure(.invalidField("ids"))
            }
            return .success(.markRead(ids: ids))
        case "mark_all_read":
            return .success(.markAllRead)
        case "mark_seen":
            if let upTo = JSONNumber.integer(value("up_to_id"), acceptingStrings: true), upTo > 0 {
                return .success(.change(.seen(ids: [], upTo: upTo)))
            }
            guard let ids = ids(value) else { return .failure(.invalidField("ids")) }
            return .success(.change(.seen(ids: ids, upTo: nil)))
        case "archive", "unarchive":
            guard let ids = ids(value) else { return .failure(.invalidField("ids")) }
            return .success(.change(type == "archive" ? .archive(ids) : .unarchive(ids)))
        case "snooze":
            guard let ids = ids(value) else { return .failure(.invalidField("ids")) }
            guard let until = value("until") as? String, InboxTime.isTimestamp(until) else {
                return .failure(.invalidField("until"))
            }
            return .success(.change(.snooze(ids, until: until)))
        case "subscribe", "unsubscribe":
            guard let room = value("room") as? String, RoomName.isValid(room) else { return .failure(.invalidField("room")) }
            return .success(type == "subscribe" ? .subscribe(room: room) : .unsubscribe(room: room))
        default:
            return .failure(.unknownType(type))
        }
    }
}

/// `id` (one) or `ids` (1 to 1000).
private func ids(_ value: (String) -> Any?) -> [Int64]? {
    if let id = JSONNumber.integer(value("id"), acceptingStrings: true) { return [id] }
    guard let ids = JSONNumber.integers(value("ids")), !ids.isEmpty, ids.count <= 1000 else { return nil }
    return ids
}

/// Room names are `kind:id`: `khatma:12`, `halaka:quran-1`, `class:5`, `group:3`, `course:7`…
public enum RoomName {
    public static let kinds: Set<String> = ["khatma", "halaka", "class", "group", "course", "school", "room"]

    public static func isValid(_ name: String) -> Bool {
        let parts = name.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, kinds.contains(String(parts[0])), (1...64).contains(parts[1].count) else { return false }
        return parts[1].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }
}
