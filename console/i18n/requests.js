export default { 'zh-CN': {}, en: {} };
