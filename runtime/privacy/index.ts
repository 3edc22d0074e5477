/**
 * Privacy filters: redaction of PII and secrets from what leaves the sandbox
 * (tool output, outbound HTTP). See spec/privacy.md.
 */
export {
  PII_CLASSES,
  addCounts,
  effectiveClasses,
  isPiiClass,
  redactJson,
  redactText,
  type RedactionCounts,
  type RedactionPolicy,
} from './redact.ts';
export { MAX_REDACTABLE_BODY_BYTES, redactHttpRequest, type HttpRequestParts, type RedactedHttpRequest } from './http.ts';
