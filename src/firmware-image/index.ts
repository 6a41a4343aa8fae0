export { analyzeImage } from './analyze-image.js';
export type * from './analysis.js';
export { chipDisplayName, familyOf, isChipName, CHIP_NAMES, type ChipName, type ChipFamily } from './chips.js';
export { formatBytes } from './common-header.js';
export type { RejectionCode } from './format-error.js';
export * from './signature/index.js';
export {
  analyzeFactoryImage,
  analyzeInstallParts,
  bootloaderOffset,
  installsApp,
  type InstallAnalysis,
  type InstallLayout,
  type InstallPart,
  type InstallPartRole,
} from './install-image.js';
