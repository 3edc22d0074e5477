// Child process for the concurrency test: adds 5 keys under one name prefix.
import { generateKey } from '../../../runtime/trust/keys.ts';
import { addTrustedKey } from '../../helpers/trust.ts';

const [home, name] = process.argv.slice(2) as [string, string];
await addTrustedKey(home, generateKey().publicKey, name);
