// Policy modules and the network simulator to test them (docs/policy.md).
export { NetworkSimulator, SimulatedLink } from './network-simulator.js';
export type {
  NetworkSimulatorOptions,
  SimulatedArrival,
  SimulatedEndpoint,
  GilbertElliottLoss,
  SimulatedDelivery,
  SimulatedLinkOptions,
  SimulatedLinkStats,
} from './network-simulator.js';
export { RtcpReporter, MAX_REPORTED_SOURCES } from './rtcp-reporter.js';
export type { RtcpReporterOptions } from './rtcp-reporter.js';
export { NackGenerator } from './nack-generator.js';
export type { NackGeneratorOptions } from './nack-generator.js';
export { NackResponder, wrapRtxBytes } from './nack-responder.js';
export type { NackResponderOptions } from './nack-responder.js';
export { KeyframeRequester } from './keyframe-requester.js';
export type { KeyframeRequesterOptions } from './keyframe-requester.js';
export { TransportCcFeedback } from './transport-cc-feedback.js';
export type { TransportCcFeedbackOptions } from './transport-cc-feedback.js';
export { RtcpFeedback } from './rtcp-feedback.js';
export { RoundTripTimeTracker } from './round-trip-time.js';
export { feedbackPacket } from './rtcp-compound.js';
export {
  defaultPolicyFactories,
  rtcpReporterPolicy,
  nackGeneratorPolicy,
  nackResponderPolicy,
  keyframeRequesterPolicy,
  transportCcFeedbackPolicy,
  congestionControlFeedbackPolicy,
} from './default-policies.js';
export { CongestionControlFeedback } from './congestion-control-feedback.js';
export type { CongestionControlFeedbackOptions } from './congestion-control-feedback.js';
export { SendSideBandwidthEstimator } from './bandwidth-estimator.js';
export type {
  BandwidthEstimatorOptions,
  BandwidthEstimatorStats,
  TargetBitrateEvent,
  SentPacketInfo,
  BandwidthUsage,
  TrendlineOptions,
  LossControllerOptions,
} from './bandwidth-estimator.js';
export { Pacer } from './pacer.js';
export type { PacerOptions, PacerStats, PacketPriority } from './pacer.js';
export { RembGenerator } from './remb-generator.js';
export type { RembGeneratorOptions, RembGeneratorStats } from './remb-generator.js';
export { BandwidthEstimationPolicy, bandwidthEstimationPolicy, BANDWIDTH_ESTIMATOR_POLICY } from './bandwidth-estimator-policy.js';
export type { BandwidthEstimationPolicyOptions, BandwidthEstimationPolicyStats } from './bandwidth-estimator-policy.js';
export { RembPolicy, rembPolicy, REMB_POLICY } from './remb-policy.js';
export type { RembPolicyOptions } from './remb-policy.js';
export { BandwidthLayerSelection, layerSteps } from './layer-selection.js';
export type {
  BandwidthLayerSelectionOptions,
  LayerSelectionChange,
  LayerSelectionConsumer,
  LayerSelectionInput,
  LayerSelectionPolicy,
  LayerSelectionReason,
  SelectedLayers,
} from './layer-selection.js';
export { LayerBitrateMeter } from './layer-bitrate-meter.js';
export type { LayerBitrateMeterOptions } from './layer-bitrate-meter.js';
