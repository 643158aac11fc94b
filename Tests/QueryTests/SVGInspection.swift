import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// A rendered SVG parsed back with Foundation's XML parser, and the few questions the plot tests
/// ask of it: which elements carry a class, where their path data goes, where ticks sit.
///
///     let svg = try SVGInspection(SVGPlot.render(series, options: PlotOptions()))
///     svg.elements("path", class: "series").count   // one per series
struct SVGInspection {
    let document: XMLDocument
    let root: XMLElement

    init(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        document = try XMLDocument(xmlString: text, options: [])
        root = try XCTUnwrap(document.rootElement(), "no root element", file: file, line: line)
    }

    /// Elements named `name` (any namespace) whose class list contains `className`.
    func elements(_ name: String, class className: String? = nil) -> [XMLElement] {
        let all = (try? document.nodes(forXPath: "//*[local-name()='\(name)']")) ?? []
        return all.compactMap { $0 as? XMLElement }.filter { element in
            guard let className else { return true }
            let classes = element.attributeValue("class")?.split(separator: " ") ?? []
            return classes.contains(Substring(className))
        }
    }

    /// Tick labels of one axis as (pixel position along the axis, value the label states).
    func ticks(_ axis: String) -> [(pixel: Double, value: Double)] {
        elements("text", class: "tick-label").compactMap { element in
            guard element.attributeValue("class") == "tick-label \(axis)",
                  let value = Double(element.stringValue ?? ""),
                  let pixel = Double(element.attributeValue(axis) ?? "") else { return nil }
            return (pixel, value)
        }
    }

    /// The plot area rectangle.
    func plotArea() -> (x: Double, y: Double, width: Double, height: Double)? {
        guard let rect = elements("rect", class: "plot-area").first else { return nil }
        let values = ["x", "y", "width", "height"].compactMap { Double(rect.attributeValue($0) ?? "") }
        return values.count == 4 ? (values[0], values[1], values[2], values[3]) : nil
    }
}

extension XMLElement {
    /// The attribute's value. Not `attribute(forName:)`: in swift-corelibs-foundation that
    /// returns nil for every attribute of an element in a default namespace (as SVG's are).
    func attributeValue(_ name: String) -> String? {
        attributes?.first { $0.name == name }?.stringValue
    }
}

/// The subpaths of SVG path data made of absolute M/L/V commands and relative h/v (what
/// `SVGPlot` writes), as lists of absolute points.
///
///     subpaths("M0 0L10 5M3 3h0")   // [[(0, 0), (10, 5)], [(3, 3), (3, 3)]]
func subpaths(_ d: String) -> [[(x: Double, y: Double)]] {
    var result: [[(x: Double, y: Double)]] = []
    var command: Character = " "
    var numbers: [Double] = []
    var current = (x: 0.0, y: 0.0)
    func apply() {
        switch command {
        case "M":
            guard numbers.count >= 2 else { break }
            current = (numbers[0], numbers[1])
            result.append([current])
            for pair in Swift.stride(from: 2, to: numbers.count - 1, by: 2) {
                current = (numbers[pair], numbers[pair + 1])
                result[result.count - 1].append(current)
            }
        case "L":
            for pair in Swift.stride(from: 0, to: numbers.count - 1, by: 2) {
                current = (numbers[pair], numbers[pair + 1])
                result[result.count - 1].append(current)
            }
        case "H", "V", "h", "v":
            for n in numbers {
                switch command {
                case "H": current.x = n
                case "V": current.y = n
                case "h": current.x += n
                default: current.y += n
                }
                result[result.count - 1].append(current)
            }
        default: break
        }
        numbers = []
    }
    var token = ""
    func endNumber() {
        if let n = Double(token) { numbers.append(n) }
        token = ""
    }
    for ch in d {
        if ch.isLetter && ch != "e" {
            endNumber()
            apply()
            command = ch
        } else if ch == " " || ch == "," {
            endNumber()
        } else if ch == "-" && !token.isEmpty && !token.hasSuffix("e") {
            endNumber()
            token = "-"
        } else {
            token.append(ch)
        }
    }
    endNumber()
    apply()
    return result
}

/// The affine map from data to pixels that two tick labels imply (value → pixel).
func mapping(from ticks: [(pixel: Double, value: Double)], log: Bool = false) -> ((Double) -> Double)? {
    guard let first = ticks.first, let last = ticks.last, last.value != first.value else { return nil }
    let f: (Double) -> Double = log ? { Foundation.log10($0) } : { $0 }
    let scale = (last.pixel - first.pixel) / (f(last.value) - f(first.value))
    return { first.pixel + (f($0) - f(first.value)) * scale }
}
