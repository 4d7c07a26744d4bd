// `mode`, `ephemeral` and whether `api_key` may be empty: what the run is.
import { INPUTS } from '../constants.js'
import { MODES } from './defaults.js'
import type { Reader } from './reader.js'
import type { Mode } from './types.js'

/** `mode` and `ephemeral` (create only), and the check that `api_key` is there unless allowed empty. */
export function readMode(r: Reader, allowEmptyApiKey: boolean): { mode: Mode; ephemeral: boolean } {
  const mode = r.oneOf(INPUTS.mode, MODES)
  const ephemeral = r.bool(INPUTS.ephemeral, 'false')
  if (ephemeral && mode !== 'create') {
    r.fail(
      INPUTS.ephemeral,
      `Input '${INPUTS.ephemeral}' is true, which is allowed only with 'mode: create' (mode is '${mode}'): ` +
        `an ephemeral branch is created by its job and deleted by the same job's post step.`,
    )
  }
  if (r.apiKey === '' && !allowEmptyApiKey) {
    r.fail(
      INPUTS.apiKey,
      `Input '${INPUTS.apiKey}' is required but was empty. Pass a Neon API key from a secret, e.g. ` +
        '`api_key: ${{ secrets.NEON_API_KEY }}` (a secret that is not set, or not available to pull requests ' +
        'from forks, reads as empty).',
    )
  }
  return { mode, ephemeral }
}
