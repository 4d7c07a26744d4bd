// The inputs live in src/inputs/ (one reader per concern); this file keeps `./inputs.js` the one
// place the rest of the code imports them from.
export * from './inputs/index.js'
