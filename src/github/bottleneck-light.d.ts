// bottleneck/light.js (the build @octokit/plugin-throttling uses, without Redis clustering) has no
// types of its own: it is the same Bottleneck class as the package's main entry.
declare module 'bottleneck/light.js' {
  import Bottleneck from 'bottleneck'
  export default Bottleneck
}
