// TEMPORARY: replaced by the Spelling module when the polish branch merges.
func nearestName(to name: String, in candidates: [String]) -> String? {
    func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + [Int](repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
    guard let best = candidates.min(by: { distance(name, $0) < distance(name, $1) }) else { return nil }
    return distance(name, best) <= max(2, name.count / 3) ? best : nil
}
