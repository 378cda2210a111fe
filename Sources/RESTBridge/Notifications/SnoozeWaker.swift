import Channels
import Hub

/// Ends snoozes when they are due: every second it clears the due ones in PostgreSQL (one
/// statement; a cleared snooze is announced once, by whichever node cleared it) and announces
/// each again to its user's tabs as `notification_unsnoozed`, with the same id and the counts.
public final class SnoozeWaker: Sendable {
    let store: NotificationStore
    let hub: ChannelHub
    let logger: Logger
    let intervalMillis: Int

    public init(store: NotificationStore, hub: ChannelHub, logger: Logger, intervalMillis: Int = 1000) {
        self.store = store
        self.hub = hub
        self.logger = logger
        self.intervalMillis = intervalMillis
    }

    public func start() {
        Task.detached { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(intervalMillis))
                await wakeDue()
            }
        }
    }

    func wakeDue() async {
        do {
            for woken in try await store.endDueSnoozes() {
                hub.publish(to: .user(woken.userID),
                            json: woken.notification.push(as: "notification_unsnoozed", counts: woken.counts))
            }
        } catch {
            logger.warning("could not end due snoozes", [("error", .string(String(describing: error)))])
        }
    }
}
