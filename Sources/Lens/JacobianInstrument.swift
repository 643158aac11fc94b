import Learning
import Linalg
import Nets

/// The lens's parametric half (lens.md §2–§8) for learners that move a flat θ through a
/// differentiable model: Δf̃_t = J_{t-1}Δθ_t by a forward+JVP pass (or read off this step's layer
/// factors), tangent kernels by the path of lens.md §5, the linearized model at θ_0, gradient
/// summaries, grad_change, and the smoother engines of lens.md §8. What it needs to know about
/// the optimizer (plain gradient descent? preconditioned? P_t) it asks the optimizer.
final class JacobianInstrument: LensInstrument {
    let learner: ParametricLearner
    let model: DifferentiableModel
    let factorized: LayerFactorizedModel?
    let optimizer: Optimizer
    let problem: LensProblem
    let points: LensPoints
    let options: LensOptions
    let keys: LensKeys
    let sink: LensSink
    let outputs: Int, parameterCount: Int
    let layerShapes: [LayerShape]
    let kernelPath: TangentKernelPath?
    let smoother: SmootherEngine?

    /// f_{θ_0} over the evaluation points and θ_0's layer factors there: J_0(x)v by one GEMM per
    /// layer for the linearized model (lens.md §3, §5).
    let initialPredictions: Matrix
    let initialFactors: LayerFactorOperand?
    /// θ_s − θ_0, the direction of the linearized model.
    let displacement: FloatBuffer
    let factorWork = FactorWorkspace()
    var medianScratch = FloatBuffer(count: 0)
    /// Kernel blocks, gathers and statistics temporaries, reused every step (lens.md §0).
    let scratch = Workspace()
    var batchRows: [Int] = [], kernelColumnRows: [Int] = []
    /// K_BB of a step's batch by layer Gram matrices, for its sharpness (lens.md (8.15)–(8.16)).
    lazy var batchGram: LayerGramKernel = LayerGramKernel(model: factorized!, transient: true)
    /// K_RR of the state being recorded alternates between two buffers, so the previous one
    /// (kvel's reference) is never overwritten by the current.
    var referenceKernelSlot = 0

    /// This step's kernel inputs at θ_{t-1} and K(U, R) when the state is recorded.
    var operand: KernelOperand?
    var batchKernel: Matrix?
    var referenceKernel: Matrix?
    /// The state being recorded: θ_{t-1} inside step t, θ_T at the end.
    var stateParameters: UnsafePointer<Float>

    /// Carried across steps (part of the lens state, lens.md §11): K_RR at the first recorded
    /// step and at the previous one (kdrift0, kvel), and the grad_change reference factors.
    var initialReferenceKernel: Matrix?
    var previousReferenceKernel: Matrix?
    var gradReference: LayerFactorOperand?

    init(learner: ParametricLearner, problem: LensProblem, points: LensPoints, options: LensOptions,
         keys: LensKeys, sink: LensSink) throws {
        self.learner = learner
        model = learner.model
        factorized = learner.model as? LayerFactorizedModel
        optimizer = learner.optimizer
        self.problem = problem
        self.points = points
        self.options = options
        self.keys = keys
        self.sink = sink
        outputs = model.outputDimension
        parameterCount = model.parameterCount
        layerShapes = factorized?.layers ?? [LayerShape(inputs: parameterCount, outputs: 1, hasBias: false, weightOffset: 0)]
        let θ0 = learner.initialParameters
        stateParameters = θ0
        initialPredictions = model.forward(points.evalX, parameters: θ0).copied()
        displacement = FloatBuffer(count: parameterCount)
        let m = points.evalX.rows
        initialFactors = factorized.map {
            LayerFactorOperand($0.kernelFactors(points.evalX, parameters: θ0), pointCount: m, outputs: $0.outputDimension)
        }

        kernelPath = try Self.chooseKernelPath(options: options, model: model, optimizer: optimizer,
                                               kernelPoints: points.kernelX.rows)

        // Smoother engine (lens.md §8); f_{θ_0} over U seeds its shadow trajectory. Labels as
        // n × C (class indices become one-hot), the residual as the loss defines it.
        let residualModel: ResidualModel = learner.loss == .crossEntropy ? .softmax : .squared
        let targets = Self.oneHotTargets(problem.trainY, outputs: outputs)
        switch SmootherEngineChoice(mode: options.smoother, plainGradientDescent: optimizer.isPlainGradientDescent,
                                    trainCount: problem.trainX.rows, outputs: outputs, probes: options.probes) {
        case .none:
            smoother = nil
        case .kernelProducts:
            let f0 = model.forward(points.kernelX, parameters: θ0).copied()
            smoother = KernelSmoother(trainCount: problem.trainX.rows, outputs: outputs, points: points.kernelX.rows,
                                      targets: targets, initialPredictions: f0, kernelIncludesStepSize: false,
                                      residualModel: residualModel)
        case .labelSensitivity(let exact, let count):
            let f0 = model.forward(points.kernelX, parameters: θ0).copied()
            smoother = LabelSensitivityEngine(model: model, optimizer: optimizer, trainX: problem.trainX,
                                              targets: targets, pointsX: points.kernelX, initialPredictions: f0,
                                              initialParameters: θ0,
                                              directions: exact ? .unit : .rademacher(count: count, seed: options.seed),
                                              maximumBatch: problem.trainX.rows, residualModel: residualModel)
        }
    }

    /// Targets as `n × C`: class indices (one column, C > 1) become one-hot rows (lens.md (8.13)–(8.14)).
    static func oneHotTargets(_ y: Matrix, outputs c: Int) -> Matrix {
        guard y.cols == 1 && c > 1 else { return y }
        let out = Matrix(rows: y.rows, cols: c)
        for i in 0..<y.rows { out[i, Loss.classIndex(y[i, 0], c)] = 1 }
        return out
    }

    /// lens.md §5: layer Gram matrices when the model factorizes and P_t = I; explicit Jacobian
    /// rows when they fit the memory budget; VJP/JVP columns otherwise.
    static func chooseKernelPath(options: LensOptions, model: DifferentiableModel, optimizer: Optimizer,
                                 kernelPoints: Int) throws -> TangentKernelPath {
        let factorized = model as? LayerFactorizedModel
        let explicitBytes = 4.0 * Double(kernelPoints * model.outputDimension) * Double(model.parameterCount)
        switch options.kernelPath {
        case .layerGram:
            guard let f = factorized, !optimizer.isPreconditioned else {
                throw LensError("lens.kernel_path: layer_gram needs an MLP trained without a preconditioner (use explicit or vjp_jvp)")
            }
            return LayerGramKernel(model: f, transient: true)
        case .explicit: return ExplicitJacobianKernel(model: model, transient: true)
        case .vjpJvp: return VJPJVPKernel(model: model, transient: true)
        case .auto:
            if let f = factorized, !optimizer.isPreconditioned { return LayerGramKernel(model: f, transient: true) }
            if explicitBytes <= options.memoryBudgetBytes { return ExplicitJacobianKernel(model: model, transient: true) }
            return VJPJVPKernel(model: model, transient: true)
        }
    }

    // MARK: - One step

    func beginStep(_ o: StepObservation, recordingState: Bool, predictions: Matrix, increment: Matrix) {
        let θ = learner.previousParameters, Δθ = learner.lastUpdate
        stateParameters = θ
        let needsBatchKernel = smoother?.needsBatchKernel ?? false
        operand = nil
        if needsBatchKernel || (recordingState && options.kernel) {
            operand = kernelPath?.prepare(points.kernelX, parameters: θ, preconditioner: optimizer.preconditioner)
        }
        // One pass at θ_{t-1}: f_{θ_{t-1}} (primal) and J_{t-1}Δθ_t (tangent), lens.md (2.2). When
        // this step's layer factors over U exist anyway, the pass is read off them (one GEMM per
        // layer); otherwise it is the model's fused forward+JVP.
        if let factors = operand as? LayerFactorOperand, let f = factorized {
            factorWork.primal(factors, rows: points.uOfEval, model: f, parameters: θ, into: predictions)
            factorWork.tangent(factors, rows: points.uOfEval, layers: f.layers, direction: Δθ, into: increment)
        } else {
            let pass = model.jvp(points.evalX, parameters: θ, direction: Δθ)
            predictions.copy(from: pass.primal)
            increment.copy(from: pass.tangent)
        }
        // K(U, B) for the smoother and K(U, R) for the statistics come from one kernel call.
        batchRows.removeAll(keepingCapacity: true)
        if needsBatchKernel { for i in o.batch { batchRows.append(points.uOfTrain[i]) } }
        (batchKernel, referenceKernel) = kernelColumns(batchRows: batchRows, reference: recordingState && options.kernel)
    }

    func finalState() {
        let θ = learner.parameters
        stateParameters = θ
        operand = options.kernel ? kernelPath?.prepare(points.kernelX, parameters: θ, preconditioner: optimizer.preconditioner) : nil
        (batchKernel, referenceKernel) = kernelColumns(batchRows: [], reference: options.kernel)
    }

    /// `K(U, B ∪ R)` in one call, split into its batch and reference column blocks (views).
    func kernelColumns(batchRows: [Int], reference: Bool) -> (batch: Matrix?, reference: Matrix?) {
        guard let operand, let path = kernelPath else { return (nil, nil) }
        let referenceRows = reference ? points.uOfReference : []
        kernelColumnRows.removeAll(keepingCapacity: true)
        kernelColumnRows.append(contentsOf: batchRows)
        kernelColumnRows.append(contentsOf: referenceRows)
        guard !kernelColumnRows.isEmpty else { return (nil, nil) }
        let k = scratch.matrix(0, rows: operand.pointCount * outputs, cols: kernelColumnRows.count * outputs)
        path.kernel(operand, rows: nil, operand, rows: kernelColumnRows, into: k)
        let split = batchRows.count * outputs
        return (batchRows.isEmpty ? nil : k.columns(0..<split), referenceRows.isEmpty ? nil : k.columns(split..<k.cols))
    }

    func advanceSmoother(_ o: StepObservation) {
        smoother?.advance(step: o.step, parameters: learner.previousParameters, batch: o.batch,
                          learningRate: Float(o.learningRate), kernelToBatch: batchKernel)
    }

    /// f_lin,s = f_0 + J_0 (θ_s − θ_0) (lens.md (3.1)): linear in θ_s, so formed only when recorded.
    var residualIsSquared: Bool { learner.loss == .mse }

    func linearizedPredictions(into out: Matrix) -> Bool {
        let θ = stateParameters, θ0 = learner.initialParameters
        for i in 0..<parameterCount { displacement[i] = θ[i] - θ0[i] }
        if let f0 = initialFactors, let f = factorized {
            factorWork.tangent(f0, rows: nil, layers: f.layers, direction: displacement.base, into: out)
        } else {
            out.copy(from: model.jvp(points.evalX, parameters: θ0, direction: displacement.base).tangent)
        }
        Vec.axpy(out.count, 1, initialPredictions.base, out.base)
        return true
    }

    func recordState(step s: Int) {
        if options.kernel, let operand, let path = kernelPath {
            recordKernelStatistics(step: s, operand: operand, path: path, toReference: referenceKernel)
        }
        recordGradientChange(step: s, parameters: stateParameters, operand: operand)
    }

    func recordStep(_ o: StepObservation) -> StabilityReading? {
        recordGradientSummaries(step: o.step, parameters: learner.previousParameters, update: learner.lastUpdate,
                                gradient: learner.lastGradient)
        guard options.sharpness else { return nil }
        let sharpness = batchSharpness(o), stability = o.learningRate * sharpness
        // The optimizer knows where its own frozen rule stops contracting (lens.md (8.17)–(8.22)).
        let bound = optimizer.stabilityBound(step: o.step)
        sink.scalar(keys.gnSharpness, step: o.step, value: sharpness)
        sink.scalar(keys.stability, step: o.step, value: stability)
        if bound.value.isFinite { sink.scalar(keys.stabilityBound, step: o.step, value: bound.value) }
        return StabilityReading(number: stability, bound: bound)
    }

    // MARK: - State (lens.md §11)

    /// Layout: optional K_RR at the first and the previous recorded step; optional grad_change
    /// reference factors (per layer: inputs, deltas, bias scale); then the smoother's state.
    func export(into w: inout StateWriter) {
        for kernel in [initialReferenceKernel, previousReferenceKernel] {
            w.bool(kernel != nil)
            if let kernel { w.matrix(kernel) }
        }
        w.bool(gradReference != nil)
        if let g = gradReference {
            w.integer(g.pointCount); w.integer(g.inputs.count)
            for l in 0..<g.inputs.count {
                w.matrix(g.inputs[l]); w.matrix(g.deltas[l]); w.floats([g.biasScales[l]])
            }
        }
        w.bool(smoother != nil)
        smoother?.export(into: &w)
    }

    func discardGradientChangeReference() { gradReference = nil }

    func importState(from r: inout StateReader) throws {
        var kernels: [Matrix?] = []
        for what in ["K_RR at the first recorded step", "K_RR at the previous recorded step"] {
            kernels.append(try r.bool() ? try r.matrix(what: what) : nil)
        }
        var reference: LayerFactorOperand?
        if try r.bool() {
            let count = try r.integer(), layers = try r.integer()
            guard layers == layerShapes.count, count == points.uOfReference.count else {
                throw StateError("LENS state: grad_change reference of \(layers) layers × \(count) points, expected \(layerShapes.count) × \(points.uOfReference.count)")
            }
            var inputs: [Matrix] = [], deltas: [Matrix] = [], scales: [Float] = []
            for _ in 0..<layers {
                inputs.append(try r.matrix(what: "grad_change inputs"))
                deltas.append(try r.matrix(what: "grad_change deltas"))
                scales.append(try r.floats(count: 1, what: "a bias scale")[0])
            }
            reference = LayerFactorOperand(pointCount: count, outputs: outputs, inputs: inputs, biasScales: scales, deltas: deltas)
        }
        let hasSmoother = try r.bool()
        guard hasSmoother == (smoother != nil) else {
            throw StateError("LENS state: the checkpoint \(hasSmoother ? "has" : "has no") smoother state; this run \(smoother != nil ? "has" : "has no") smoother")
        }
        try smoother?.importState(from: &r)
        guard !r.validating else { return }
        initialReferenceKernel = kernels[0]
        previousReferenceKernel = kernels[1]
        gradReference = reference
    }
}
