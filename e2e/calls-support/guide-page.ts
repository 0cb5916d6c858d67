/**
 * Skapi's WebRTC guide example, as kept in examples/skapi-guide/: the guide's markup and
 * script with only its three obvious bugs fixed, and the initialisation line changed to
 * Switchboard. The test serves these exact files.
 */
import { readFileSync } from 'node:fs';

const exampleDir = new URL('../../examples/skapi-guide/', import.meta.url);

export const GUIDE_SCRIPT = readFileSync(new URL('guide.js', exampleDir), 'utf8');
export const GUIDE_PAGE = readFileSync(new URL('index.html', exampleDir), 'utf8');
