/// "Did you mean …?" for every place tlens rejects a name from a known list: config keys and
/// values, data sources and options, CSV columns, presets, commands, help topics, sweep names.
/// One closeness rule everywhere, so the same typo gets the same answer wherever it is made.
///
///     nearestName(to: "optimizer.lrr", in: ["optimizer.lr", "lens.every"])   // "optimizer.lr"
///     nearestName(to: "foo.bar", in: ["optimizer.lr", "lens.every"])         // nil: nothing is close

/// Levenshtein distance: the fewest single-character insertions, deletions and substitutions
/// that turn `a` into `b` (counted in Characters, so `θ` is one).
public func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count), current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

/// The candidate nearest to `name`, if it is close enough to be a likely typo, else nil.
///
/// "Close" is an edit distance of at most max(2, n / 3), n the length of `name`: two slips are
/// forgiven in any word (`lrr` → `lr`, `evry` → `every`), longer words and key paths a third of
/// their length (`optimzer.lr` → `optimizer.lr`), and a word that shares almost nothing with
/// every candidate (`foo` against `loss`) gets no suggestion rather than a misleading one. A
/// candidate every one of whose characters would change (`^` → `+`, `x` → `lr`) is a rewrite,
/// not a typo, and is not suggested either. Ties go to the candidate listed first.
public func nearestName(to name: String, in candidates: [String]) -> String? {
    var best: (name: String, distance: Int)?
    for candidate in candidates {
        let d = editDistance(name, candidate)
        if d < (best?.distance ?? Int.max) { best = (candidate, d) }
    }
    guard let best, best.distance <= max(2, name.count / 3),
          best.distance < max(name.count, best.name.count) else { return nil }
    return best.name
}
