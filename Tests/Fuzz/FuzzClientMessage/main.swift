import Channels
import Foundation
import FuzzSupport

// ClientMessage.parse, the JSON every WebSocket client sends: nothing may crash, and a message that
// parses, written back as JSON the documented way, parses to the same message.
Fuzzer.run { input in
    guard case .success(let message) = ClientMessage.parse(Array(input)) else { return }
    let again = ClientMessage.parse(canonicalJSON(message))
    Fuzzer.requireSame(Result<ClientMessage, ClientMessage.ParseError>.success(message), again, "round trip")
}

/// The message as DESIGN.md documents it (`{"type": …, …fields}`).
func canonicalJSON(_ message: ClientMessage) -> [UInt8] {
    let object: [String: Any] = switch message {
    case .heartbeat: ["type": "heartbeat"]
    case .auth(let token): ["type": "auth", "token": token]
    case .resume(let lastID): ["type": "resume", "last_id": lastID]
    case .markRead(let ids): ["type": "mark_read", "ids": ids]
    case .markAllRead: ["type": "mark_all_read"]
    case .subscribe(let room): ["type": "subscribe", "room": room]
    case .unsubscribe(let room): ["type": "unsubscribe", "room": room]
    case .change(.seen(let ids, let upTo)): upTo.map { ["type": "mark_seen", "up_to_id": $0] } ?? ["type": "mark_seen", "ids": ids]
    case .change(.archive(let ids)): ["type": "archive", "ids": ids]
    case .change(.unarchive(let ids)): ["type": "unarchive", "ids": ids]
    case .change(.snooze(let ids, let until)): ["type": "snooze", "ids": ids, "until": until]
    case .change(.delete(let ids)): ["type": "delete", "ids": ids]
    }
    do {
        return Array(try JSONSerialization.data(withJSONObject: object))
    } catch {
        Fuzzer.require(false, "cannot write \(message) as JSON: \(error)")
        return []
    }
}
