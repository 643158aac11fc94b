import Dispatch
import Foundation

extension Recorder {
    /// Keeps the signal sources alive; dropping it does not uninstall them (they live for the
    /// process), but `cancel()` restores the default actions.
    public final class SignalHandlers {
        let sources: [DispatchSourceSignal]
        let signals: [Int32]
        init(sources: [DispatchSourceSignal], signals: [Int32]) { self.sources = sources; self.signals = signals }
        /// Stops handling and restores each signal's default action.
        public func cancel() {
            for source in sources { source.cancel() }
            for number in signals { signal(number, SIG_DFL) }
        }
    }

    nonisolated(unsafe) private static var installed: [SignalHandlers] = []

    /// Turns SIGINT and SIGTERM into a call of `onSignal` (on a background queue) instead of
    /// killing the process, so the runner can stop its loop, `finish(status: .interrupted)`
    /// (which flushes what is queued) and exit. A second signal of the same kind exits at once
    /// with status 128 + signal, for a loop that does not stop.
    ///
    ///     let stop = ManagedAtomic(false)   // or any flag the loop checks
    ///     Recorder.installSignalHandlers { _ in stop.store(true) }
    ///     while !stop.load() { ... }
    ///     try run.finish(status: .interrupted, error: nil)
    @discardableResult
    public static func installSignalHandlers(signals: [Int32] = [SIGINT, SIGTERM],
                                             onSignal: @escaping (Int32) -> Void) -> SignalHandlers {
        var sources: [DispatchSourceSignal] = []
        for number in signals {
            // Dispatch sources see the signal only if its default action (terminate) is ignored.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            var seen = false
            source.setEventHandler {
                if seen { exit(128 + number) }
                seen = true
                onSignal(number)
            }
            source.resume()
            sources.append(source)
        }
        let handlers = SignalHandlers(sources: sources, signals: signals)
        installed.append(handlers)
        return handlers
    }
}
