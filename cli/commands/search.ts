import { mppHome } from '../../runtime/home.ts';
import { loadRegistries, unknownRegistry } from '../../runtime/registry/client/config.ts';
import { searchRegistry } from '../../runtime/registry/client/publish.ts';
import { isUnavailable } from '../../runtime/registry/client/signed-index.ts';
import { fingerprint } from '../../runtime/trust/keys.ts';
import { toMppError } from '../output.ts';
import type { RegisterCommand } from '../context.ts';
import { transferTiming } from '../transfer.ts';

export const registerSearch: RegisterCommand = (program, run) => {
  program
    .command('search')
    .description('Search the configured registries (names, descriptions, publishers), in priority order.')
    .argument('<text>', 'what to look for')
    .option('--timeout <ms>', 'time limit for each registry')
    .option('--json', 'print the result as JSON')
    .action((text: string, opts: { timeout?: string; json?: boolean }) =>
      run(async ({ out }) => {
        const registries = loadRegistries(mppHome());
        if (registries.length === 0) throw unknownRegistry('No registry is configured.');
        const results: { registry: string; name: string; version: string; description: string; publisher: { keyid: string; name: string }; downloads: number }[] = [];
        for (const r of registries) {
          try {
            for (const hit of await searchRegistry(r, text, transferTiming(opts.timeout))) results.push({ registry: r.name, ...hit });
          } catch (e) {
            if (!isUnavailable(e)) throw e;
            out.warn(`registry "${r.name}" could not be reached: ${toMppError(e).message}`);
          }
        }
        const human = results.length === 0
          ? `Nothing matches "${text}".`
          : results.map((h) => `${h.name}@${h.version}  (${h.registry}, ${h.downloads} downloads)\n  ${h.description}\n  by ${h.publisher.name} (as stated), key ${fingerprint(h.publisher.keyid)}`).join('\n');
        out.result(human, { results });
      }, opts),
    );
};
