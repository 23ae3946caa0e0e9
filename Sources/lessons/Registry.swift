import NotebookCore

/// Every compute module a lesson may call. Add a module here once it has its tests.
public enum ModuleCatalog {
    public static let registry = ModuleRegistry([
        // Online softmax and the FlashAttention tile
        SafeSoftmaxModule(),
        OnlineSoftmaxModule(),
        TiledAttentionModule(),
        AttentionIOModule(),
        AttentionBackwardModule(),
        AttentionSplitKVModule(),
        // Policy gradients and actor-critic
        SoftmaxStepModule(),
        ReinforceModule(),
        ActorCriticModule(),
        CorridorVarianceModule(),
        CorridorTrainModule(),
        // InfoNCE and NCE
        NCEBinaryModule(),
        NCEGaussianModule(),
        NegativeSamplingModule(),
        InfoNCELossModule(),
        InfoNCEBatchModule(),
        InfoNCEIdealModule(),
        InfoNCETrainModule(),
        DiscreteMutualInformationModule(),
        // Mixed precision and FP16 rounding
        FPFormatModule(),
        FPRoundModule(),
        FPSweepModule(),
        FPLossScaleModule(),
        FPDynamicScaleModule(),
        FPAccumulateModule(),
        FPDotModule(),
        FPUpdateModule(),
        FPAdamModule(),
        FPScaleTensorModule(),
        // Autoregressive models
        FVSBNModule(),
        FVSBNSampleModule(),
        FVSBNExactModule(),
        AutoregressiveFitModule(),
        // Self-supervised learning
        MaskedPredictionModule(),
        StripPredictionModule(),
        RotationPretextModule(),
        MAECostModule(),
        // DDPG
        DDPGStepModule(),
        DPGEstimatorsModule(),
        TD3OverestimationModule(),
        TD3LearnModule(),
        OUNoiseModule(),
        // TRPO and PPO
        TRPOStepModule(),
        PPOOptimizeModule(),
        // Kimi k1.5
        KimiPolicyLossModule(),
        KimiLengthPenaltyModule(),
        KimiMirrorFitModule(),
        KimiLogZEstimatesModule(),
        // Medusa
        MedusaTypicalModule(),
        MedusaTreeModule(),
        MedusaSpeedupModule(),
        MedusaSparseModule(),
        MedusaRulesModule(),
        // Faster R-CNN
        BoxIoUModule(),
        BoxEncodeModule(),
        BoxNMSModule(),
        SmoothL1Module(),
        RoIPoolModule(),
        RoIAlignModule(),
        RPNAnchorsModule(),
        RPNProposalsModule(),
        // Deformable convolution
        DeformBilinearModule(),
        DeformConvModule(),
        DeformRoIPoolModule(),
    ])
}
