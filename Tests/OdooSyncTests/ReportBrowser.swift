import Foundation
import Testing

/// Headless Chromium (Debian's `chromium`, which scripts/test installs) driven from the
/// command line: screenshots and the DOM after the page's script ran.
enum Chromium {
    static var binary: String? {
        if let path = ProcessInfo.processInfo.environment["CHROMIUM_BIN"], FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        return ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    struct Missing: Error, CustomStringConvertible {
        var description: String { "Chromium is not installed: run scripts/test (it installs Debian's chromium) or set CHROMIUM_BIN." }
    }

    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs chromium headless on `page` with `mode` (`--screenshot=...` or `--dump-dom`) and
    /// returns its stdout. Each run gets its own profile so concurrent browsers never share one.
    static func run(_ mode: [String], page: URL, fragment: String = "", width: Int = 1280, height: Int = 2000) async throws -> String {
        guard let binary else { throw Missing() }
        let profile = try TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: profile) }
        let address = page.absoluteString + (fragment.isEmpty ? "" : "#" + fragment)
        let running = try CLI.start(
            ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--hide-scrollbars", "--user-data-dir=\(profile.path)", "--window-size=\(width),\(height)"] + mode + [address],
            environment: ["HOME": profile.path], executable: binary)
        let process = running.process
        let watchdog = Task {
            try await Task.sleep(nanoseconds: 120_000_000_000)
            if process.isRunning { process.terminate() }
        }
        let result = await running.finish()
        watchdog.cancel()
        guard result.status == 0 else {
            throw Failed(description: "chromium exited \(result.status): \(result.stderr.suffix(2000))")
        }
        return result.stdout
    }

    /// One browser run: a screenshot of the window and the DOM after the page's script ran.
    static func render(_ page: URL, screenshot png: URL, fragment: String = "") async throws -> (image: PNGImage, dom: String) {
        let dom = try await run(["--screenshot=\(png.path)", "--dump-dom"], page: page, fragment: fragment)
        return (try PNGImage(data: Data(contentsOf: png)), dom)
    }
}

/// Enough of a PNG decoder to look at a browser screenshot: 8-bit RGB or RGBA, not interlaced.
/// Inflating goes through the system zlib, which every Debian has (chromium links it).
struct PNGImage {
    let width: Int
    let height: Int
    /// RGBA, row by row.
    let pixels: [UInt8]

    struct Unsupported: Error, CustomStringConvertible {
        let description: String
    }

    init(data: Data) throws {
        let bytes = [UInt8](data)
        guard bytes.count > 8, bytes[0..<8].elementsEqual([137, 80, 78, 71, 13, 10, 26, 10]) else { throw Unsupported(description: "not a PNG") }
        func u32(_ i: Int) -> Int { Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]) }
        var offset = 8
        var header: [UInt8] = []
        var compressed: [UInt8] = []
        while offset + 8 <= bytes.count {
            let length = u32(offset)
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let start = offset + 8
            guard start + length <= bytes.count else { throw Unsupported(description: "truncated \(type) chunk") }
            if type == "IHDR" { header = Array(bytes[start..<(start + length)]) }
            if type == "IDAT" { compressed += bytes[start..<(start + length)] }
            if type == "IEND" { break }
            offset = start + length + 4
        }
        guard header.count == 13 else { throw Unsupported(description: "no IHDR") }
        let width = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        let height = Int(header[4]) << 24 | Int(header[5]) << 16 | Int(header[6]) << 8 | Int(header[7])
        let depth = header[8], colour = header[9], interlace = header[12]
        guard depth == 8, colour == 2 || colour == 6, interlace == 0 else {
            throw Unsupported(description: "bit depth \(depth), colour type \(colour), interlace \(interlace)")
        }
        let channels = colour == 6 ? 4 : 3
        let stride = width * channels
        let raw = try Zlib.inflate(compressed, expected: height * (stride + 1))
        var out = [UInt8](repeating: 255, count: width * height * 4)
        var previous = [UInt8](repeating: 0, count: stride)
        var line = [UInt8](repeating: 0, count: stride)
        for y in 0..<height {
            let base = y * (stride + 1)
            let filter = raw[base]
            for x in 0..<stride {
                let value = raw[base + 1 + x]
                let a = x >= channels ? Int(line[x - channels]) : 0
                let b = Int(previous[x])
                let c = x >= channels ? Int(previous[x - channels]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                default: throw Unsupported(description: "filter type \(filter)")
                }
                line[x] = UInt8(truncatingIfNeeded: Int(value) + predictor)
            }
            for x in 0..<width {
                for ch in 0..<channels { out[(y * width + x) * 4 + ch] = line[x * channels + ch] }
            }
            swap(&line, &previous)
        }
        self.width = width
        self.height = height
        self.pixels = out
    }

    func rgb(_ x: Int, _ y: Int) -> (Int, Int, Int) {
        let i = (y * width + x) * 4
        return (Int(pixels[i]), Int(pixels[i + 1]), Int(pixels[i + 2]))
    }

    /// Colours seen on a grid of sample points, and the share of samples that differ from the
    /// most common colour (the background).
    func variety(step: Int = 3) -> (colours: Int, nonBackground: Double) {
        var counts: [Int: Int] = [:]
        var samples = 0
        for y in stride(from: 0, to: height, by: step) {
            for x in stride(from: 0, to: width, by: step) {
                let (r, g, b) = rgb(x, y)
                counts[r << 16 | g << 8 | b, default: 0] += 1
                samples += 1
            }
        }
        let background = counts.values.max() ?? 0
        return (counts.count, samples == 0 ? 0 : Double(samples - background) / Double(samples))
    }

    /// How many sample points are within `tolerance` of a colour.
    func samples(near colour: (Int, Int, Int), tolerance: Int = 24, step: Int = 2) -> Int {
        var n = 0
        for y in stride(from: 0, to: height, by: step) {
            for x in stride(from: 0, to: width, by: step) {
                let (r, g, b) = rgb(x, y)
                if abs(r - colour.0) <= tolerance && abs(g - colour.1) <= tolerance && abs(b - colour.2) <= tolerance { n += 1 }
            }
        }
        return n
    }
}

/// zlib's `uncompress`, looked up at run time so the tests need no module map or package.
enum Zlib {
    private typealias Uncompress = @convention(c) (UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt>?, UnsafePointer<UInt8>?, UInt) -> Int32

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func inflate(_ input: [UInt8], expected: Int) throws -> [UInt8] {
        guard let library = dlopen("libz.so.1", RTLD_NOW) ?? dlopen("libz.so", RTLD_NOW),
              let symbol = dlsym(library, "uncompress") else {
            throw Failure(description: "zlib (libz.so.1) is not available")
        }
        let uncompress = unsafeBitCast(symbol, to: Uncompress.self)
        var output = [UInt8](repeating: 0, count: expected)
        var length = UInt(expected)
        let status = output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { inp in
                uncompress(out.baseAddress, &length, inp.baseAddress, UInt(inp.count))
            }
        }
        guard status == 0, Int(length) == expected else {
            throw Failure(description: "zlib uncompress returned \(status) with \(length) of \(expected) bytes")
        }
        return output
    }
}

/// The figures a rendered page carries in its data attributes.
enum ReportDOM {
    /// Attributes of every element whose opening tag has `marker` (e.g. `data-stage=`).
    static func elements(_ html: String, marker: String) -> [[String: String]] {
        var found: [[String: String]] = []
        var rest = html[...]
        while let hit = rest.range(of: marker) {
            guard let open = rest[..<hit.lowerBound].lastIndex(of: "<"),
                  let close = rest[hit.lowerBound...].firstIndex(of: ">") else { break }
            found.append(attributes(String(rest[open..<close])))
            rest = rest[close...]
        }
        return found
    }

    static func attributes(_ tag: String) -> [String: String] {
        var out: [String: String] = [:]
        let pattern = try? NSRegularExpression(pattern: #"([a-zA-Z_:][-a-zA-Z0-9_:.]*)="([^"]*)""#)
        let ns = tag as NSString
        for match in pattern?.matches(in: tag, range: NSRange(location: 0, length: ns.length)) ?? [] {
            out[ns.substring(with: match.range(at: 1))] = ns.substring(with: match.range(at: 2))
                .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<")
                .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&#39;", with: "'")
                .replacingOccurrences(of: "&amp;", with: "&")
        }
        return out
    }

    /// The root element's attributes (generated-at, stale days, whether the script ran).
    static func root(_ html: String) -> [String: String] {
        guard let start = html.range(of: "<html"), let end = html[start.upperBound...].firstIndex(of: ">") else { return [:] }
        return attributes(String(html[start.lowerBound..<end]))
    }
}
