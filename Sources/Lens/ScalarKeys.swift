/// The scalar keys a lens may emit, registered once at construction (docs/metrics.md lists
/// each with its definition). The step loop refers to keys by index only.
public final class ScalarKeys {
    public private(set) var names: [String] = []

    func register(_ name: String) -> Int {
        if let i = names.firstIndex(of: name) { return i }
        names.append(name)
        return names.count - 1
    }

    /// `name/1 … name/L` for per-layer keys (layers numbered from the input).
    func registerLayers(_ name: String, count: Int) -> [Int] {
        (1...max(count, 1)).map { register("\(name)/\($0)") }
    }
}

/// Indices of every key the lens emits.
struct LensKeys {
    let lr, trainLoss, trainMSE, testMSE, trainAcc, testAcc: Int
    let telTestMSE, telTestAcc, linTestMSE, linTestAcc: Int
    let approxErrTel, approxErrTelTrain, approxErrLin, approxErrLinTrain: Int
    let smootherErr, pTrain, pTest, pSE, pTestSE: Int
    let gnSharpness, stability, stabilityBound, smootherStable: Int
    let ktraceTrain, ktraceTest, kalign, kdrift0, kvel: Int
    let kwnMeanTrain, kwnMeanTest, kwnMaxTrain, kwnMaxTest: Int
    let gradNorm, gradNormBias, updateNorm, weightNorm, updateRatio, gradChange, precondMedian: [Int]

    init(_ k: ScalarKeys, layers: Int) {
        lr = k.register("lr"); trainLoss = k.register("train_loss")
        trainMSE = k.register("train_mse"); testMSE = k.register("test_mse")
        trainAcc = k.register("train_acc"); testAcc = k.register("test_acc")
        telTestMSE = k.register("tel_test_mse"); telTestAcc = k.register("tel_test_acc")
        linTestMSE = k.register("lin_test_mse"); linTestAcc = k.register("lin_test_acc")
        approxErrTel = k.register("approx_err_tel"); approxErrTelTrain = k.register("approx_err_tel_train")
        approxErrLin = k.register("approx_err_lin"); approxErrLinTrain = k.register("approx_err_lin_train")
        smootherErr = k.register("smoother_err")
        pTrain = k.register("p_train"); pTest = k.register("p_test")
        pSE = k.register("p_se"); pTestSE = k.register("p_test_se")
        gnSharpness = k.register("gn_sharpness"); stability = k.register("stability")
        stabilityBound = k.register("stability_bound")
        smootherStable = k.register("smoother_stable")
        ktraceTrain = k.register("ktrace_train"); ktraceTest = k.register("ktrace_test")
        kalign = k.register("kalign"); kdrift0 = k.register("kdrift0"); kvel = k.register("kvel")
        kwnMeanTrain = k.register("kwn_mean_train"); kwnMeanTest = k.register("kwn_mean_test")
        kwnMaxTrain = k.register("kwn_max_train"); kwnMaxTest = k.register("kwn_max_test")
        gradNorm = k.registerLayers("grad_norm", count: layers)
        gradNormBias = k.registerLayers("grad_norm_bias", count: layers)
        updateNorm = k.registerLayers("update_norm", count: layers)
        weightNorm = k.registerLayers("weight_norm", count: layers)
        updateRatio = k.registerLayers("update_ratio", count: layers)
        gradChange = k.registerLayers("grad_change", count: layers)
        precondMedian = k.registerLayers("precond_median", count: layers)
    }
}
