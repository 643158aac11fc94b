import Dispatch
import Foundation

extension Recorder {
    /// One `installSignalHandlers` registration. `cancel()` removes its callback; the signals
    /// stay ignored (their Dispatch sources live for the rest of the process, because
    /// re-creating a source for the same signal after cancelling one lost signals on Linux).
    public final class SignalHandlers {
        let signals: [Int32]
        let onSignal: (Int32) -> Void
        let exitAfter: Int
        var seen: [Int32: Int] = [:]
        init(signals: [Int32], exitAfter: Int, onSignal: @escaping (Int32) -> Void) {
            self.signals = signals
            self.exitAfter = exitAfter
            self.onSignal = onSignal
        }
        /// Stops calling this registration's callback.
        public func cancel() {
            SignalRegistry.lock.lock()
            SignalRegistry.handlers.removeAll { $0 === self }
            SignalRegistry.lock.unlock()
        }
    }

    /// Turns SIGINT and SIGTERM into a call of `onSignal` (on a background queue) instead of
    /// killing the process, so the runner can stop its loop, `finish(status: .interrupted)`
    /// (which flushes what is queued) and exit. The `exitAfter`-th signal of the same kind (the
    /// second by default) exits at once with status 128 + signal, for a loop that does not stop.
    ///
    ///     let stop = StopFlag()   // any thread-safe flag the loop checks
    ///     Recorder.installSignalHandlers { _ in stop.set() }
    ///     while !stop.isSet { ... }
    ///     try run.finish(status: .interrupted, error: nil)
    @discardableResult
    public static func installSignalHandlers(signals: [Int32] = [SIGINT, SIGTERM], exitAfter: Int = 2,
                                             onSignal: @escaping (Int32) -> Void) -> SignalHandlers {
        let handlers = SignalHandlers(signals: signals, exitAfter: max(exitAfter, 1), onSignal: onSignal)
        SignalRegistry.lock.lock()
        defer { SignalRegistry.lock.unlock() }
        SignalRegistry.handlers.append(handlers)
        for number in signals where SignalRegistry.sources[number] == nil {
            // Dispatch sources see the signal only if its default action (terminate) is ignored.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { SignalRegistry.deliver(number) }
            // Registration is asynchronous; return only once the source is armed.
            let armed = DispatchSemaphore(value: 0)
            source.setRegistrationHandler { armed.signal() }
            source.resume()
            armed.wait()
            SignalRegistry.sources[number] = source
        }
        return handlers
    }
}

/// Process-wide: one Dispatch source per signal, and the registrations to call.
enum SignalRegistry {
    static let lock = NSLock()
    nonisolated(unsafe) static var sources: [Int32: DispatchSourceSignal] = [:]
    nonisolated(unsafe) static var handlers: [Recorder.SignalHandlers] = []

    static func deliver(_ number: Int32) {
        lock.lock()
        let targets = handlers.filter { $0.signals.contains(number) }
        var callbacks: [(Int32) -> Void] = []
        for target in targets {
            let count = target.seen[number, default: 0] + 1
            target.seen[number] = count
            if count >= target.exitAfter {
                lock.unlock()
                exit(128 + number)
            }
            callbacks.append(target.onSignal)
        }
        lock.unlock()
        for callback in callbacks { callback(number) }
    }
}
