/// A hub's channel configuration, shared by reference by all of its sessions, so that each
/// session's state machine carries one pointer instead of its own copy of every limit.
final class SessionSettings: Sendable {
    let configuration: ChannelConfiguration

    init(_ configuration: ChannelConfiguration) {
        self.configuration = configuration
    }
}
