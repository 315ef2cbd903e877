// Dependency descriptor header extension (AV1 RTP spec appendix A.8): kept as raw bytes; only the
// mandatory fields (first 3 bytes) are decoded, which is what a forwarder needs to spot frame edges.

/** The mandatory descriptor fields (A.8.1). */
export interface DependencyDescriptorMandatory {
  startOfFrame: boolean;
  endOfFrame: boolean;
  /** 6-bit template id. */
  frameDependencyTemplateId: number;
  /** 16-bit frame number. */
  frameNumber: number;
}

/** Reads the mandatory fields, or null when the value is shorter than 3 bytes. */
export function parseDependencyDescriptorMandatory(data: Uint8Array): DependencyDescriptorMandatory | null {
  if (data.length < 3) return null;
  const b = data[0]!;
  return {
    startOfFrame: (b & 0x80) !== 0,
    endOfFrame: (b & 0x40) !== 0,
    frameDependencyTemplateId: b & 0x3f,
    frameNumber: (data[1]! << 8) | data[2]!,
  };
}
