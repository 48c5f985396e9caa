import Foundation

/// Keeps a client inside Plane's per-key sliding window (60 requests a minute by default).
///
/// Plane tells, on every allowed answer, how many requests are left (`X-RateLimit-Remaining`)
/// and `X-RateLimit-Reset` = now + window, which is the window's length, not its end. When
/// nothing is left, the next slot opens when the oldest request of the window expires; the gate
/// remembers when its own requests went out to know when that is. A 429 (another client on the
/// same key, or a server whose clock runs ahead) carries `Retry-After` and is waited out by the
/// client on top of this.
struct RateLimitGate: Sendable {
    private(set) var window: TimeInterval = 60
    private(set) var remaining: Int?
    /// Send times (Unix seconds) of this client's requests within the last window, oldest first.
    private var sent: [TimeInterval] = []

    /// Requests sent and not answered yet, by the number `noteSent` gave them.
    private var inFlight: Set<Int> = []
    private var lastNumber = 0
    private var newestAnswered = 0

    /// Counts a request about to go out and returns its number. It takes a slot of the count
    /// known so far, so that requests sent side by side do not all spend the last one.
    mutating func noteSent(at now: TimeInterval) -> Int {
        sent.append(now)
        prune(now)
        remaining = remaining.map { max(0, $0 - 1) }
        lastNumber += 1
        inFlight.insert(lastNumber)
        return lastNumber
    }

    /// The request numbered `number` got no allowed answer (a 429, an error, no answer).
    mutating func noteFinished(_ number: Int) {
        inFlight.remove(number)
    }

    /// Reads the headers of the allowed answer to request `number` (header names lowercased).
    /// The server counted it, but not the requests sent after it that are still on their way.
    mutating func noteAnswer(_ number: Int, headers: [String: String], now: TimeInterval) {
        inFlight.remove(number)
        // An answer overtaken by a later request's answer tells an older count.
        guard number > newestAnswered else { return }
        newestAnswered = number
        let later = inFlight.filter { $0 > number }.count
        if let reset = headers["x-ratelimit-reset"].flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }) {
            // Reset is whole seconds and `now` is not: round up, or a 1 s window reads as 0.
            window = min(3600, max(1, (reset - now).rounded(.up)))
        }
        if let left = headers["x-ratelimit-remaining"].flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) {
            remaining = max(0, left - later)
        }
    }

    /// Seconds to wait before the next request may go.
    func delay(now: TimeInterval) -> TimeInterval {
        guard remaining == 0 else { return 0 }
        guard let oldest = sent.first(where: { $0 > now - window }) else { return 0 }
        // A little past the expiry, so that the server's clock agrees the slot is free.
        return max(0, oldest + window - now) + 0.05
    }

    /// After a wait the count is unknown until the next answer says it again.
    mutating func didWait() {
        remaining = nil
    }

    private mutating func prune(_ now: TimeInterval) {
        let horizon = now - 3600
        if let first = sent.firstIndex(where: { $0 > horizon }), first > 0 { sent.removeFirst(first) }
        if sent.count > 4096 { sent.removeFirst(sent.count - 4096) }
    }
}
