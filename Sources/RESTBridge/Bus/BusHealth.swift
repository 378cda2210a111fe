import Hub

/// The bus as `/api/health/` and `/metrics` show it.
public enum BusHealth {
    /// `node`, `bus` {state, listening, lag_ms, messages_in, messages_out} and `peers`, written
    /// into the health object.
    public static func write(nodeID: String, bus: PostgresBus?, to json: inout JSONWriter) {
        json.field("node", nodeID)
        json.key("bus")
        json.beginObject()
        guard let bus else {
            json.field("state", "memory")
            json.field("listening", false)
            json.endObject()
            json.key("peers"); json.beginArray(); json.endArray()
            return
        }
        let status = bus.status
        json.field("state", status.mode.rawValue)
        json.field("listening", status.mode == .listening)
        json.key("lag_ms"); json.int(status.lagMillis)
        json.field("messages_in", status.messagesIn)
        json.field("messages_out", status.messagesOut)
        json.endObject()
        json.key("peers")
        json.beginArray()
        for peer in status.peers {
            json.beginObject()
            json.field("node", peer.nodeID)
            json.key("address"); if let address = peer.address { json.string(address) } else { json.null() }
            json.key("lease_left_ms"); json.int(peer.leaseLeftMillis)
            json.field("self", peer.nodeID == status.nodeID)
            json.endObject()
        }
        json.endArray()
    }

    static func metrics(_ status: PostgresBus.Status) -> [String] {
        [
            "# HELP hub_bus_messages_in_total Bus rows read from other nodes.", "# TYPE hub_bus_messages_in_total counter",
            "hub_bus_messages_in_total \(status.messagesIn)",
            "# HELP hub_bus_messages_out_total Bus rows this node wrote.", "# TYPE hub_bus_messages_out_total counter",
            "hub_bus_messages_out_total \(status.messagesOut)",
            "# HELP hub_bus_lag_ms Age of the newest bus row when it was read, ms.", "# TYPE hub_bus_lag_ms gauge",
            "hub_bus_lag_ms \(status.lagMillis)",
            "# HELP hub_bus_listening 1 while the bus LISTENs (0: polling or disconnected).", "# TYPE hub_bus_listening gauge",
            "hub_bus_listening \(status.mode == .listening ? 1 : 0)",
            "# HELP hub_bus_peers Nodes registered on the bus (this one included).", "# TYPE hub_bus_peers gauge",
            "hub_bus_peers \(status.peers.count)",
        ]
    }

    /// A Prometheus label value: `\`, `"` and new lines escaped.
    static func labelValue(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
