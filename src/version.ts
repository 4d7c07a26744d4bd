/** The action's own version, sent in the User-Agent so Neon support can tell our requests apart. */
export const ACTION_NAME = 'neon-preview-branch'
export const ACTION_VERSION = '1.0.0'
