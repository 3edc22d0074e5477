/**
 * The one step a development package adds to a fresh instance: its generic
 * engine evaluates the tool's source, inside the instance, under the same
 * imports and grant as any call. Nothing here reaches the host: the source
 * only ever runs in the component.
 */
import { DEVELOPMENT_LOAD_TOOL } from '../../format/development.ts';

interface ToolHandler {
  call(tool: string, input: string): unknown;
}

export function loadDevelopmentSource(handler: ToolHandler, source: string): void {
  try {
    handler.call(DEVELOPMENT_LOAD_TOOL, source);
  } catch (e) {
    const why = e !== null && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string' ? (e as { message: string }).message : String(e);
    throw Object.assign(new Error(`the development source did not load: ${why}`), { mppCode: 'MPP_E_TOOL_INVALID' });
  }
}
