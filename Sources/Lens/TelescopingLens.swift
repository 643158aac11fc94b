import Linalg
import Nets

/// Watches a training run step by step and records what the telescoping lens sees
/// (lens.md §2–§8): the network's predictions, the telescoping model
/// `f̃_t = f̃_{t-1} + J_{t-1}Δθ_t`, the linearized baseline `f_lin,t = f_0 + J_0(θ_t − θ_0)`, kernel
/// statistics, gradient summaries and the smoother's effective parameters.
///
/// Step convention: quantities of the network *state* after `s` steps (predictions, kernels
/// K(θ_s), Ŝ_s, p) are recorded under step `s`; quantities of the *step* t (batch loss at
/// θ_{t-1}, gradient, update, learning rate) under step `t`. The state at `s = t−1` is observed
/// inside step t's pass, which runs at θ_{t-1} before the update is applied.
public final class TelescopingLens {
    public let scalarKeys = ScalarKeys()
    let keys: LensKeys
    let model: DifferentiableModel
    let factorized: LayerFactorizedModel?
    let optimizer: Optimizer
    let problem: LensProblem
    let options: LensOptions
    let sink: LensSink
    let outputs: Int, parameterCount: Int

    /// Evaluation points: the train split (rows of `problem.evalTrain`) then the test split.
    let evalX: Matrix, evalY: Matrix
    let trainEvalCount: Int, testCount: Int
    /// Telescoped and linearized predictions over the evaluation points, and the pass outputs.
    let telescoped: Matrix, linearized: Matrix, predictions: Matrix, tangent: Matrix
    /// f_{θ_0} over the evaluation points.
    let initialPredictions: Matrix
    let initialParameters: FloatBuffer

    /// Kernel points U: training rows first (all of them when the smoother needs them, else the
    /// evaluation and reference rows), then the test points.
    let kernelX: Matrix
    let kernelTrainRows: [Int]
    let uOfTrain: [Int]           // training row → row of U, or −1
    let uOfEvalTrain: [Int], uOfReference: [Int], uOfTest: [Int]
    /// Rows of U holding the evaluation points, train split then test split.
    let uOfEval: [Int]
    let kernelPath: TangentKernelPath?
    let smoother: SmootherEngine?
    let smootherTestRows: Range<Int>

    /// The network's latest recorded test metric (accuracy for classification, else MSE), for
    /// progress lines.
    public private(set) var latestTestMetric: (name: String, value: Double)?
    var initialReferenceKernel: Matrix?
    var previousReferenceKernel: Matrix?
    var gradReference: LayerFactorOperand?
    let layerShapes: [LayerShape]
    /// Layer factors of the evaluation points at θ_0: J_0(x)v by one GEMM per layer (§3, §5).
    let initialFactors: LayerFactorOperand?
    /// θ_s − θ_0, the direction of the linearized model.
    let displacement: FloatBuffer
    let factorWork = FactorWorkspace()

    public init(model: DifferentiableModel, optimizer: Optimizer, problem: LensProblem,
                initialParameters θ0: UnsafePointer<Float>, options: LensOptions, sink: LensSink) throws {
        self.model = model
        factorized = model as? LayerFactorizedModel
        self.optimizer = optimizer
        self.problem = problem
        self.options = options
        self.sink = sink
        outputs = model.outputDimension
        parameterCount = model.parameterCount
        layerShapes = factorized?.layers ?? [LayerShape(inputs: parameterCount, outputs: 1, hasBias: false, weightOffset: 0)]
        keys = LensKeys(scalarKeys, layers: layerShapes.count)

        trainEvalCount = problem.evalTrain.count
        testCount = problem.testX.rows
        let m = trainEvalCount + testCount, d = problem.trainX.cols
        evalX = Matrix(rows: m, cols: d)
        evalY = Matrix(rows: m, cols: outputs)
        problem.trainX.gatherRows(problem.evalTrain, into: evalX.rows(0..<trainEvalCount))
        problem.trainY.gatherRows(problem.evalTrain, into: evalY.rows(0..<trainEvalCount))
        evalX.rows(trainEvalCount..<m).copy(from: problem.testX)
        evalY.rows(trainEvalCount..<m).copy(from: problem.testY)
        telescoped = Matrix(rows: m, cols: outputs)
        linearized = Matrix(rows: m, cols: outputs)
        predictions = Matrix(rows: m, cols: outputs)
        tangent = Matrix(rows: m, cols: outputs)
        initialPredictions = model.forward(evalX, parameters: θ0).copied()
        initialParameters = FloatBuffer(count: parameterCount)
        initialParameters.base.update(from: θ0, count: parameterCount)
        displacement = FloatBuffer(count: parameterCount)
        let points = evalX
        initialFactors = (model as? LayerFactorizedModel).map {
            LayerFactorOperand($0.kernelFactors(points, parameters: θ0), pointCount: m, outputs: $0.outputDimension)
        }

        // Kernel point set U and its index maps.
        let n = problem.trainX.rows
        let smootherOn = options.smoother != .off
        let needsKernelPoints = options.kernel || smootherOn
        var trainRows: [Int]
        if smootherOn {
            trainRows = Array(0..<n)
        } else {
            trainRows = Array(Set(problem.evalTrain + problem.reference)).sorted()
        }
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

        // Kernel path (lens.md §5).
        let useGram = factorized != nil && !options.optimizerIsPreconditioned
        let explicitBytes = 4.0 * Double(kernelX.rows * outputs) * Double(parameterCount)
        switch options.kernelPath {
        case .layerGram:
            guard let f = factorized, !options.optimizerIsPreconditioned else {
                throw LensError("lens.kernel_path: layer_gram needs an MLP trained without a preconditioner (use explicit or vjp_jvp)")
            }
            kernelPath = LayerGramKernel(model: f, transient: true)
        case .explicit: kernelPath = ExplicitJacobianKernel(model: model)
        case .vjpJvp: kernelPath = VJPJVPKernel(model: model)
        case .auto:
            if useGram, let f = factorized { kernelPath = LayerGramKernel(model: f, transient: true) }
            else if explicitBytes <= options.memoryBudgetBytes { kernelPath = ExplicitJacobianKernel(model: model) }
            else { kernelPath = VJPJVPKernel(model: model) }
        }

        // Smoother engine (lens.md §8); f_{θ_0} over U seeds its shadow trajectory.
        if smootherOn {
            let f0 = model.forward(kernelX, parameters: θ0).copied()
            if options.smoother == .exact && options.optimizerIsPlainSGD {
                smoother = KernelSmoother(trainCount: n, outputs: outputs, points: kernelX.rows,
                                          targets: problem.trainY, initialPredictions: f0)
            } else {
                let directions: LabelSensitivityEngine.Directions =
                    options.smoother == .exact ? .unit : .rademacher(count: options.probes, seed: options.seed)
                smoother = LabelSensitivityEngine(model: model, optimizer: optimizer, trainX: problem.trainX,
                                                  targets: problem.trainY, pointsX: kernelX, initialPredictions: f0,
                                                  initialParameters: θ0, directions: directions,
                                                  maximumBatch: n)
            }
        } else {
            smoother = nil
        }
    }

    /// Memory an exact or probe smoother would hold, for validation against the budget.
    public static func smootherMemoryBytes(options: LensOptions, trainCount n: Int, testCount: Int, outputs c: Int,
                                           parameters p: Int, batch: Int, optimizerStateCount s: Int) -> Double {
        let u = n + testCount
        switch options.smoother {
        case .off: return 0
        case .exact where options.optimizerIsPlainSGD:
            return KernelSmoother.memoryBytes(trainCount: n, outputs: c, points: u, batch: batch)
        case .exact:
            return LabelSensitivityEngine.memoryBytes(directions: n * c, parameters: p, stateCount: s, points: u, outputs: c, trainCount: n)
        case .probes:
            return LabelSensitivityEngine.memoryBytes(directions: options.probes, parameters: p, stateCount: s, points: u, outputs: c, trainCount: n)
        }
    }

    func isRecorded(_ step: Int) -> Bool { step % options.every == 0 || step == options.totalSteps }

    // MARK: - One step

    /// Step `t`: called after the optimizer proposed Δθ_t from the batch gradient at θ_{t-1}
    /// and before θ moves. `gradient` is the raw batch gradient ∇L_t(θ_{t-1}).
    public func observe(step t: Int, parameters θ: UnsafePointer<Float>, update Δθ: UnsafePointer<Float>,
                        gradient: UnsafePointer<Float>, batch: [Int], learningRate γ: Float, batchLoss: Double) {
        let s = t - 1
        let needsBatchKernel = smoother?.needsBatchKernel ?? false
        var operand: KernelOperand? = nil
        if needsBatchKernel || (isRecorded(s) && options.kernel) {
            operand = kernelPath?.prepare(kernelX, parameters: θ, preconditioner: optimizer.preconditioner)
        }
        // One pass at θ_{t-1}: f_{θ_{t-1}} (primal) and J_{t-1}Δθ_t (tangent), §2. When this step's
        // layer factors over U exist anyway, the pass is read off them (one GEMM per layer);
        // otherwise it is the model's fused forward+JVP.
        if let factors = operand as? LayerFactorOperand, let f = factorized {
            let rows = uOfEval
            factorWork.primal(factors, rows: rows, model: f, parameters: θ, into: predictions)
            factorWork.tangent(factors, rows: rows, layers: f.layers, direction: Δθ, into: tangent)
        } else {
            let pass = model.jvp(evalX, parameters: θ, direction: Δθ)
            predictions.copy(from: pass.primal)
            tangent.copy(from: pass.tangent)
        }
        if t == 1 { telescoped.copy(from: predictions) }

        // K(U, B) for the smoother and K(U, R) for the statistics come from one kernel call.
        let batchRows = needsBatchKernel ? batch.map { uOfTrain[$0] } : []
        let kernels = kernelColumns(operand, batchRows: batchRows, reference: isRecorded(s) && options.kernel)
        if isRecorded(s) { recordState(step: s, parameters: θ, operand: operand, toReference: kernels.reference) }

        // Ŝ_{t-1} → Ŝ_t with K_t(U, B) (fast path) or the label-sensitivity engine.
        smoother?.advance(step: t, parameters: θ, batch: batch, learningRate: γ, kernelToBatch: kernels.batch)

        // f̃_t = f̃_{t-1} + J_{t-1}Δθ_t (§2).
        Vec.axpy(telescoped.count, 1, tangent.base, telescoped.base)

        if isRecorded(t) {
            sink.scalar(keys.trainLoss, step: t, value: batchLoss)
            sink.scalar(keys.lr, step: t, value: Double(γ))
            recordGradientSummaries(step: t, parameters: θ, update: Δθ, gradient: gradient)
        }
    }

    /// After the last step: records the final state θ_T.
    public func finish(step T: Int, parameters θ: UnsafePointer<Float>) {
        predictions.copy(from: model.forward(evalX, parameters: θ))
        if T == 0 { telescoped.copy(from: predictions) }
        let operand = options.kernel
            ? kernelPath?.prepare(kernelX, parameters: θ, preconditioner: optimizer.preconditioner) : nil
        recordState(step: T, parameters: θ, operand: operand,
                    toReference: kernelColumns(operand, batchRows: [], reference: options.kernel).reference)
    }

    /// `K(U, B ∪ R)` in one call, split into its batch and reference column blocks (views).
    func kernelColumns(_ operand: KernelOperand?, batchRows: [Int], reference: Bool) -> (batch: Matrix?, reference: Matrix?) {
        guard let operand, let path = kernelPath else { return (nil, nil) }
        let referenceRows = reference ? uOfReference : []
        let columns = batchRows + referenceRows
        guard !columns.isEmpty else { return (nil, nil) }
        let k = path.kernel(operand, rows: nil, operand, rows: columns, outputs: outputs)
        let split = batchRows.count * outputs
        return (batchRows.isEmpty ? nil : k.columns(0..<split), referenceRows.isEmpty ? nil : k.columns(split..<k.cols))
    }

    // MARK: - Recording the state θ_s

    func recordState(step s: Int, parameters θ: UnsafePointer<Float>, operand: KernelOperand?, toReference: Matrix?) {
        let m1 = trainEvalCount, m = evalX.rows, c = outputs
        let trainRange = 0..<m1, testRange = m1..<m
        let k = keys

        // f_lin,s = f_0 + J_0 (θ_s − θ_0) (§3): linear in θ_s, so it is formed only when recorded.
        for i in 0..<parameterCount { displacement[i] = θ[i] - initialParameters[i] }
        if let f0 = initialFactors, let f = factorized {
            factorWork.tangent(f0, rows: nil, layers: f.layers, direction: displacement.base, into: linearized)
        } else {
            linearized.copy(from: model.jvp(evalX, parameters: initialParameters.base, direction: displacement.base).tangent)
        }
        Vec.axpy(linearized.count, 1, initialPredictions.base, linearized.base)

        // The network's, the telescoped and the linearized predictions, scored by the engine's
        // own metrics on row views of the evaluation matrix.
        let trainY = evalY.rows(trainRange), testY = evalY.rows(testRange)
        let testMSE = Metrics.mse(outputs: predictions.rows(testRange), targets: testY)
        sink.scalar(k.trainMSE, step: s, value: Metrics.mse(outputs: predictions.rows(trainRange), targets: trainY))
        sink.scalar(k.testMSE, step: s, value: testMSE)
        sink.scalar(k.telTestMSE, step: s, value: Metrics.mse(outputs: telescoped.rows(testRange), targets: testY))
        sink.scalar(k.linTestMSE, step: s, value: Metrics.mse(outputs: linearized.rows(testRange), targets: testY))
        latestTestMetric = ("test_mse", testMSE)
        if problem.classification {
            let testAccuracy = Metrics.accuracy(outputs: predictions.rows(testRange), targets: testY)
            sink.scalar(k.trainAcc, step: s, value: Metrics.accuracy(outputs: predictions.rows(trainRange), targets: trainY))
            sink.scalar(k.testAcc, step: s, value: testAccuracy)
            sink.scalar(k.telTestAcc, step: s, value: Metrics.accuracy(outputs: telescoped.rows(testRange), targets: testY))
            sink.scalar(k.linTestAcc, step: s, value: Metrics.accuracy(outputs: linearized.rows(testRange), targets: testY))
            latestTestMetric = ("test_acc", testAccuracy)
        }
        sink.scalar(k.approxErrTel, step: s, value: meanAbsoluteDifference(predictions, telescoped, testRange))
        sink.scalar(k.approxErrTelTrain, step: s, value: meanAbsoluteDifference(predictions, telescoped, trainRange))
        sink.scalar(k.approxErrLin, step: s, value: meanAbsoluteDifference(predictions, linearized, testRange))
        sink.scalar(k.approxErrLinTrain, step: s, value: meanAbsoluteDifference(predictions, linearized, trainRange))
        for (kind, matrix) in [(VectorKind.pred, predictions), (.tel, telescoped), (.lin, linearized)] {
            sink.vector(kind, split: .train, step: s, values: UnsafeBufferPointer(start: matrix.base, count: m1 * c))
            sink.vector(kind, split: .test, step: s, values: UnsafeBufferPointer(start: matrix.row(m1), count: (m - m1) * c))
        }

        if let smoother {
            let n = problem.trainX.rows
            let train = smoother.effectiveParameters(rows: 0..<n)
            let test = smoother.effectiveParameters(rows: smootherTestRows)
            sink.scalar(k.pTrain, step: s, value: train.value)
            sink.scalar(k.pTest, step: s, value: test.value)
            sink.scalar(k.pSE, step: s, value: train.standardError)
            sink.scalar(k.pTestSE, step: s, value: test.standardError)
            // smoother_err: |Ŝ_s vec(Y) + c_s − f_{θ_s}| over the test evaluation points.
            var err = 0.0
            for i in 0..<testCount {
                let shadow = smoother.shadow(row: smootherTestRows.lowerBound + i), f = predictions.row(m1 + i)
                for o in 0..<c { err += Double(abs(shadow[o] - f[o])) }
            }
            sink.scalar(k.smootherErr, step: s, value: testCount > 0 ? err / Double(testCount * c) : 0)
        }

        if options.kernel, let operand, let path = kernelPath {
            recordKernelStatistics(step: s, operand: operand, path: path, toReference: toReference)
        }
        recordGradientChange(step: s, parameters: θ, operand: operand)
    }
}

public struct LensError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}

