/// How the initial weights are drawn (biases always start at 0).
public enum Initialization: Sendable, Equatable, Codable {
    /// `N(0, 2/fan_in)` under `.standard`.
    case he
    /// Glorot normal, `N(0, 2/(fan_in + fan_out))` under `.standard`.
    case xavier
    /// `N(0, std²)` under either parameterization.
    case normal(std: Float)
}

/// Where the layer's scale lives (Jacot et al. 2018; Lee et al. 2019).
///
/// - `standard`: `z_l = W_l h_{l-1} + b_l`, the variance of `W_l` set by `Initialization`.
/// - `ntk`: `z_l = (1/√d_{l-1}) W_l h_{l-1} + β b_l` with `β = 1`, and `W_l ~ α·N(0, 1)` for
///   `.he` and `.xavier` (the fan-in scale is the multiplier, not the variance);
///   `.normal(std:)` draws `α·N(0, std²)`.
public enum Parameterization: String, Sendable, Codable {
    case standard, ntk
}

/// The last layer of the network.
///
/// - `learned`: `f = s_L W_L h_{L-1} + β b_L`, with `W_L` (and `b_L`) in θ.
/// - `fixedMean`: `f = (1/N) Σ_j h_{L-1,j}`, the mean of the last hidden layer's N units, with no
///   parameters (Kumar et al. 2024's fixed readout with its 1/N output scaling): θ holds the
///   hidden layers only, so the Jacobian, the kernels and p count no readout. One output.
public enum Readout: String, Sendable, Codable, CaseIterable {
    case learned
    case fixedMean = "fixed_mean"
}

/// The architecture of a fully connected network `R^inputDimension → R^outputDimension`.
///
///     let spec = MLPSpec(inputDimension: 64, hidden: [512, 512], outputDimension: 1)
///     let net = MLP(spec)
///     let θ = net.initialParameters(seed: 0)
public struct MLPSpec: Sendable, Equatable, Codable {
    public var inputDimension: Int
    public var hidden: [Int]
    public var outputDimension: Int
    public var activation: Activation
    public var bias: Bool
    public var initialization: Initialization
    /// α: multiplies every initial weight (biases start at 0).
    public var initScale: Float
    public var parameterization: Parameterization
    public var readout: Readout

    public init(inputDimension: Int, hidden: [Int], outputDimension: Int,
                activation: Activation = .relu, bias: Bool = true,
                initialization: Initialization = .he, initScale: Float = 1,
                parameterization: Parameterization = .standard, readout: Readout = .learned) {
        self.inputDimension = inputDimension
        self.hidden = hidden
        self.outputDimension = outputDimension
        self.activation = activation
        self.bias = bias
        self.initialization = initialization
        self.initScale = initScale
        self.parameterization = parameterization
        self.readout = readout
    }

    /// `[d_0, d_1, …, d_L]`: input, hidden widths, output.
    public var widths: [Int] { [inputDimension] + hidden + [outputDimension] }

    /// Parameter offsets and shapes in θ order (docs/schema.md: per layer `W` `[out][in]`
    /// row-major, then `b`): every layer, or under `readout: fixed_mean` every layer but the
    /// readout, which has no parameters.
    public var layerShapes: [LayerShape] {
        readout == .fixedMean ? Array(stageShapes.dropLast()) : stageShapes
    }

    /// Every layer the forward pass runs, the fixed readout included (its shape has no bias and
    /// an offset past θ, which nothing reads: its weights are not in θ).
    var stageShapes: [LayerShape] {
        var shapes: [LayerShape] = []
        var offset = 0
        let w = widths
        for l in 1..<w.count {
            let fixed = readout == .fixedMean && l == w.count - 1
            let s = LayerShape(inputs: w[l - 1], outputs: w[l], hasBias: bias && !fixed, weightOffset: offset)
            shapes.append(s)
            offset += s.parameterCount
        }
        return shapes
    }

    /// The multiplier `s_l` in `z_l = s_l W_l h_{l-1} + β b_l`.
    public func weightMultiplier(fanIn: Int) -> Float {
        parameterization == .ntk ? 1 / Float(fanIn).squareRoot() : 1
    }

    /// `s_l` of layer `l` (0-based) of `stageShapes`: the fixed readout's is 1/N (its weights are
    /// all 1, so `f` is the mean of the N hidden units).
    func stageMultiplier(_ l: Int, fanIn: Int) -> Float {
        readout == .fixedMean && l == hidden.count ? 1 / Float(fanIn) : weightMultiplier(fanIn: fanIn)
    }

    /// β in `z_l = s_l W_l h_{l-1} + β b_l` (1 in both parameterizations).
    public var biasMultiplier: Float { 1 }

    /// Standard deviation of the initial entries of a `fanOut × fanIn` weight, α included.
    public func initialStandardDeviation(fanIn: Int, fanOut: Int) -> Float {
        let base: Float
        switch (initialization, parameterization) {
        case (.normal(let std), _): base = std
        case (_, .ntk): base = 1
        case (.he, .standard): base = (2 / Float(fanIn)).squareRoot()
        case (.xavier, .standard): base = (2 / Float(fanIn + fanOut)).squareRoot()
        }
        return initScale * base
    }
}
