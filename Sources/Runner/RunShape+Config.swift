import Lens

/// The one place the cost model reads the config: everything else in RunCostModel.swift and
/// SmootherDefault.swift works on plain numbers.
extension RunShape {
    /// The shape of `config` once its data is known: n training and `testCount` test examples,
    /// C outputs (the data's target dimension), d features. `eval_train`/`eval_test` of 0 mean
    /// all, as in PreparedRun; `kernel_path: auto` resolves as TelescopingLens does.
    ///
    ///     let shape = RunShape(config, trainCount: 1438, testCount: 359, outputs: 10, inputDimension: 64)
    public init(_ config: TrainConfig, trainCount n: Int, testCount: Int, outputs c: Int, inputDimension d: Int) {
        let lens = config.lens, options = lens.options, o = config.optimizer
        let evalTrain = lens.evalTrain == 0 ? n : min(lens.evalTrain, n)
        let evalTest = lens.evalTest == 0 ? testCount : min(lens.evalTest, testCount)
        let buffers = o.spec.buffersPerParameter, sensitivity = o.spec.sensitivityStatesPerParameter
        if let trees = config.model.trees {
            self.init(trainCount: n, outputs: c, inputDimension: d, hidden: [], bias: false,
                      batchSize: trees.subsampleSize(trainCount: n), steps: config.steps, evalTrain: evalTrain,
                      evalTest: evalTest, kernelStatistics: options.kernel, referenceSize: 0, every: options.every,
                      smoother: RunShape.Smoother(rawValue: options.smoother.rawValue) ?? .off, probes: options.probes)
            self.trees = TreeShape(maxDepth: trees.maxDepth, bins: trees.binsPerFeature(trainCount: n), subsampled: trees.subsample < 1)
            return
        }
        self.init(trainCount: n, outputs: c, inputDimension: d, hidden: config.model.hidden, bias: config.model.bias,
                  batchSize: o.batchSize, steps: config.steps, evalTrain: evalTrain, evalTest: evalTest,
                  kernelStatistics: options.kernel, referenceSize: options.referenceSize, every: options.every,
                  smoother: RunShape.Smoother(rawValue: options.smoother.rawValue) ?? .off, probes: options.probes,
                  plainSGD: o.spec.isPlainGradientDescent, preconditioned: o.spec.isPreconditioned,
                  optimizerBuffers: buffers, sensitivityBuffers: sensitivity)
        kernelPath = RunShape.kernelPath(options.kernelPath, preconditioned: o.spec.isPreconditioned, shape: self,
                                         memoryBudgetBytes: options.memoryBudgetBytes)
    }

    /// The shape of a prepared run (its data loaded and split).
    public init(_ prepared: PreparedRun) {
        self.init(prepared.config, trainCount: prepared.split.train.count, testCount: prepared.split.test.count,
                  outputs: prepared.split.train.targetDimension, inputDimension: prepared.split.train.dimension)
    }

    static func kernelPath(_ choice: KernelPathChoice, preconditioned: Bool, shape: RunShape,
                           memoryBudgetBytes: Double) -> KernelPath {
        switch choice {
        case .layerGram: return .layerGram
        case .explicit: return .explicit
        case .vjpJvp: return .vjpJvp
        case .auto:
            return automaticKernelPath(preconditioned: preconditioned, kernelPoints: shape.kernelPointCount,
                                       outputs: shape.outputs, parameters: shape.parameterCount,
                                       memoryBudgetBytes: memoryBudgetBytes)
        }
    }
}

extension RunShape.Smoother {
    /// The lens's mode for this choice (`lens.smoother`).
    public var mode: SmootherMode { SmootherMode(rawValue: rawValue) ?? .off }
}
