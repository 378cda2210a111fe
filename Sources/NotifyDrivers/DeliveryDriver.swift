/// What a driver says about one delivery attempt; only the outbox decides what happens next.
public enum DeliveryOutcome: Sendable, Equatable {
    /// Accepted by the provider, with its message id when it gives one.
    case delivered(providerID: String?)
    /// Try again no sooner than `afterSeconds` (a provider's `retry_after`, or a transient fault).
    case retry(afterSeconds: Double, reason: String)
    /// Will never succeed (bad address, blocked bot, 5xx SMTP reply).
    case failed(reason: String)
}

/// The delivery channels of the hub.
public enum DeliveryChannel: String, CaseIterable, Sendable {
    case inApp = "IN_APP"
    case email = "EMAIL"
    case sms = "SMS"
    case telegram = "TELEGRAM"
    /// Web Push (RFC 8030/8291/8292): one delivery per browser subscription.
    case push = "PUSH"
    /// Outbound webhooks (Standard Webhooks): one delivery per message and endpoint.
    case webhook = "WEBHOOK"
}

/// One message for one recipient on one channel.
public struct Delivery: Sendable {
    public var channel: DeliveryChannel
    public var destination: String
    public var subject: String
    public var text: String
    public var html: String?
    /// Right-to-left text (Arabic): the HTML part sets `dir="rtl"`.
    public var rightToLeft: Bool
    /// A Web Push delivery's subscription and message; nil when its subscription was deleted.
    public var push: WebPushMessage?
    /// A webhook delivery's message; nil when its endpoint is disabled.
    public var webhook: WebhookMessage?

    public init(channel: DeliveryChannel, destination: String, subject: String, text: String, html: String? = nil,
                rightToLeft: Bool = false)
    {
        self.channel = channel
        self.destination = destination
        self.subject = subject
        self.text = text
        self.html = html
        self.rightToLeft = rightToLeft
    }

    public static func push(_ message: WebPushMessage?) -> Delivery {
        var delivery = Delivery(channel: .push, destination: message?.endpoint ?? "", subject: "", text: "")
        delivery.push = message
        return delivery
    }

    public static func webhook(_ message: WebhookMessage?) -> Delivery {
        var delivery = Delivery(channel: .webhook, destination: message?.url ?? "", subject: "", text: "")
        delivery.webhook = message
        return delivery
    }
}

/// What one attempt looked like from the outside, for a delivery log (webhooks keep one).
public struct DeliveryAttempt: Sendable, Equatable {
    /// The HTTP status, nil when no answer came (refused, timed out).
    public var statusCode: Int?
    /// The start of the answer's body, at most 1 KiB, as text.
    public var response: String
    public var durationMillis: Int

    public init(statusCode: Int?, response: String, durationMillis: Int) {
        self.statusCode = statusCode
        self.response = response
        self.durationMillis = durationMillis
    }
}

/// A delivery channel's driver (email over SMTP, Telegram, SMS…), called from the outbox's worker
/// threads, never from an event loop. `send` answers exactly once through `completion`, later, from
/// the delivery loop where the driver's non-blocking client runs (many sends in flight, none
/// holding the calling thread). Every path has a timeout, so it always answers.
public protocol DeliveryDriver: AnyObject {
    var channel: DeliveryChannel { get }
    func send(_ delivery: Delivery, completion: @escaping @Sendable (DeliveryOutcome) -> Void)
    /// The same, with what the attempt looked like when the driver keeps a log (webhooks).
    func sendReporting(_ delivery: Delivery, completion: @escaping @Sendable (DeliveryOutcome, DeliveryAttempt?) -> Void)
}

extension DeliveryDriver {
    public func sendReporting(_ delivery: Delivery,
                              completion: @escaping @Sendable (DeliveryOutcome, DeliveryAttempt?) -> Void)
    {
        send(delivery) { completion($0, nil) }
    }
}
