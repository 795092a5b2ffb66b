/** Amazon ECR behind the ImageScanner and ImageRegistry ports. */
export { createEcrClient, translateEcrError, ecrErrorName, EcrUnavailableError, type EcrCall, type EcrClientOptions } from './client';
export { createEcrImageScanner, ecrLocationOf, ecrSeverity, toScanFindings, type EcrImageLocation, type EcrImageScannerOptions, type EcrScanProgress } from './scanner';
export { createEcrImageRegistry, createdByValue, lifecyclePolicyText, CREATED_BY_TAG, type EcrImageRegistryOptions } from './registry';
