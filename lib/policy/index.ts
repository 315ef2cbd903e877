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
