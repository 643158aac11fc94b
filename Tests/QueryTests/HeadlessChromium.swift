import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Screenshots of local HTML files through headless Chromium, for tests that check what a
/// browser actually draws rather than what the markup says.
///
///     let image = try renderScreenshot(html: URL(fileURLWithPath: "/tmp/report.html"), width: 1280, height: 2400)
///     XCTAssertGreaterThan(image.count(near: PNGImage.Color(hex: "#1f77b4")), 500)
///
/// Chromium runs with a fresh temporary profile and HOME, so it reads and writes nothing of the
/// user's, and is killed after `timeout` seconds. `savingTo` keeps a copy of the PNG for people
/// to look at.
func renderScreenshot(html: URL, width: Int, height: Int, timeout: TimeInterval = 60, savingTo copy: URL? = nil) throws -> PNGImage {
    try HeadlessChromium.screenshot(html: html, width: width, height: height, timeout: timeout, savingTo: copy)
}

enum HeadlessChromium {
    /// `TLENS_CHROMIUM` overrides it; CI installs the Debian package (Makefile APT_PACKAGES).
    static var executable: String {
        ProcessInfo.processInfo.environment["TLENS_CHROMIUM"] ?? "/usr/bin/chromium"
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func screenshot(html: URL, width: Int, height: Int, timeout: TimeInterval, savingTo copy: URL?) throws -> PNGImage {
        let fm = FileManager.default
        guard fm.isExecutableFile(atPath: executable) else {
            throw Failure(description: """
                Chromium is needed to check rendered reports but \(executable) is not an executable file. \
                Install it (Debian/Ubuntu: apt-get install chromium; CI gets it from the Makefile's APT_PACKAGES) \
                or point TLENS_CHROMIUM at a Chromium binary.
                """)
        }
        let work = fm.temporaryDirectory.appendingPathComponent("tlens-chromium-\(UUID().uuidString)")
        let home = work.appendingPathComponent("home")
        let profile = work.appendingPathComponent("profile")
        let output = work.appendingPathComponent("screenshot.png")
        let log = work.appendingPathComponent("chromium.log")
        try fm.createDirectory(at: home, withIntermediateDirectories: true)
        try fm.createDirectory(at: profile, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: work) }
        _ = fm.createFile(atPath: log.path, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
            "--disable-background-networking", "--disable-component-update", "--mute-audio",
            "--force-device-scale-factor=1", "--force-color-profile=srgb",
            "--user-data-dir=\(profile.path)", "--screenshot=\(output.path)",
            "--window-size=\(width),\(height)", html.absoluteURL.absoluteString,
        ]
        var environment = ProcessInfo.processInfo.environment
        for key in ["HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"] { environment[key] = home.path }
        process.environment = environment
        // A file, not a pipe: Chromium logs a lot, and a full pipe nobody reads would block it.
        let logHandle = try FileHandle(forWritingTo: log)
        defer { try? logHandle.close() }
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()

        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            process.terminate()
            let grace = Date().addingTimeInterval(3)
            while process.isRunning && Date() < grace { usleep(50_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            throw Failure(description: "Chromium did not finish within \(Int(timeout)) s rendering \(html.path)\n\(tail(of: log))")
        }
        guard process.terminationStatus == 0, fm.fileExists(atPath: output.path) else {
            throw Failure(description: "Chromium exited with status \(process.terminationStatus) without writing \(output.path)\n\(tail(of: log))")
        }
        if let copy {
            try? fm.removeItem(at: copy)
            try fm.copyItem(at: output, to: copy)
        }
        return try PNGImage(contentsOf: output)
    }

    /// The last lines of Chromium's log, for failure messages.
    private static func tail(of log: URL, lines: Int = 15) -> String {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}
