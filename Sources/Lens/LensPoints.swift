import Linalg

/// The point sets a lens works on (lens.md §0). Evaluation points: the training rows
/// `problem.evalTrain` then every test point, in the order vectors are stored. Kernel points U:
/// training rows first — all of them when the smoother runs (Ŝ spans every training label), else
/// the evaluation and reference rows — then the test points.
struct LensPoints {
    let evalX: Matrix, evalY: Matrix
    let trainEvalCount: Int, testCount: Int
    /// U as a matrix, and the training row of each of its first rows.
    let kernelX: Matrix
    let kernelTrainRows: [Int]
    /// Training row → row of U, or −1.
    let uOfTrain: [Int]
    let uOfEvalTrain: [Int], uOfReference: [Int], uOfTest: [Int]
    /// Rows of U holding the evaluation points, train split then test split.
    let uOfEval: [Int]
    /// Rows of U that are test points (after all n training rows when the smoother runs).
    let smootherTestRows: Range<Int>
    let trainCount: Int

    init(problem: LensProblem, outputs: Int, needsKernelPoints: Bool, smootherOn: Bool) {
        trainEvalCount = problem.evalTrain.count
        testCount = problem.testX.rows
        trainCount = problem.trainX.rows
        let m = trainEvalCount + testCount, d = problem.trainX.cols, n = trainCount
        evalX = Matrix(rows: m, cols: d)
        evalY = Matrix(rows: m, cols: outputs)
        problem.trainX.gatherRows(problem.evalTrain, into: evalX.rows(0..<trainEvalCount))
        problem.trainY.gatherRows(problem.evalTrain, into: evalY.rows(0..<trainEvalCount))
        evalX.rows(trainEvalCount..<m).copy(from: problem.testX)
        evalY.rows(trainEvalCount..<m).copy(from: problem.testY)

        var trainRows = smootherOn ? Array(0..<n) : Array(Set(problem.evalTrain + problem.reference)).sorted()
        if !needsKernelPoints { trainRows = [] }
        kernelTrainRows = trainRows
        var uOfTrain = [Int](repeating: -1, count: n)
        for (u, i) in trainRows.enumerated() { uOfTrain[i] = u }
        self.uOfTrain = uOfTrain
        uOfEvalTrain = problem.evalTrain.map { uOfTrain[$0] }
        uOfReference = problem.reference.map { uOfTrain[$0] }
        uOfTest = needsKernelPoints ? Array(trainRows.count..<(trainRows.count + testCount)) : []
        uOfEval = uOfEvalTrain + uOfTest
        kernelX = Matrix(rows: needsKernelPoints ? trainRows.count + testCount : 0, cols: d)
        if needsKernelPoints {
            problem.trainX.gatherRows(trainRows, into: kernelX.rows(0..<trainRows.count))
            kernelX.rows(trainRows.count..<kernelX.rows).copy(from: problem.testX)
        }
        smootherTestRows = n..<(n + testCount)
    }
}
