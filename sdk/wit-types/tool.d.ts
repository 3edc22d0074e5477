/// <reference path="./interfaces/mpp-tool-confirm.d.ts" />
/// <reference path="./interfaces/mpp-tool-handler.d.ts" />
/// <reference path="./interfaces/mpp-tool-identity.d.ts" />
/// <reference path="./interfaces/mpp-tool-kv.d.ts" />
/// <reference path="./interfaces/mpp-tool-log.d.ts" />
/// <reference path="./interfaces/mpp-tool-refusal.d.ts" />
/// <reference path="./interfaces/mpp-tool-types.d.ts" />
/// <reference path="./interfaces/wasi-cli-environment.d.ts" />
/// <reference path="./interfaces/wasi-clocks-wall-clock.d.ts" />
/// <reference path="./interfaces/wasi-filesystem-preopens.d.ts" />
/// <reference path="./interfaces/wasi-filesystem-types.d.ts" />
/// <reference path="./interfaces/wasi-io-error.d.ts" />
/// <reference path="./interfaces/wasi-io-poll.d.ts" />
/// <reference path="./interfaces/wasi-io-streams.d.ts" />
declare module 'mpp:tool/tool@0.1.0' {
  export type * as MppToolConfirm010 from 'mpp:tool/confirm@0.1.0'; // import mpp:tool/confirm@0.1.0
  export type * as MppToolIdentity010 from 'mpp:tool/identity@0.1.0'; // import mpp:tool/identity@0.1.0
  export type * as MppToolKv010 from 'mpp:tool/kv@0.1.0'; // import mpp:tool/kv@0.1.0
  export type * as MppToolLog010 from 'mpp:tool/log@0.1.0'; // import mpp:tool/log@0.1.0
  export type * as MppToolRefusal010 from 'mpp:tool/refusal@0.1.0'; // import mpp:tool/refusal@0.1.0
  export type * as MppToolTypes010 from 'mpp:tool/types@0.1.0'; // import mpp:tool/types@0.1.0
  export type * as WasiCliEnvironment0212 from 'wasi:cli/environment@0.2.12'; // import wasi:cli/environment@0.2.12
  export type * as WasiClocksWallClock0212 from 'wasi:clocks/wall-clock@0.2.12'; // import wasi:clocks/wall-clock@0.2.12
  export type * as WasiFilesystemPreopens0212 from 'wasi:filesystem/preopens@0.2.12'; // import wasi:filesystem/preopens@0.2.12
  export type * as WasiFilesystemTypes0212 from 'wasi:filesystem/types@0.2.12'; // import wasi:filesystem/types@0.2.12
  export type * as WasiIoError0212 from 'wasi:io/error@0.2.12'; // import wasi:io/error@0.2.12
  export type * as WasiIoPoll0212 from 'wasi:io/poll@0.2.12'; // import wasi:io/poll@0.2.12
  export type * as WasiIoStreams0212 from 'wasi:io/streams@0.2.12'; // import wasi:io/streams@0.2.12
  export * as handler from 'mpp:tool/handler@0.1.0'; // export mpp:tool/handler@0.1.0
}
