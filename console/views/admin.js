export default { name: 'admin', titleKey: 'nav.admin', visible: () => false, async render() {} };
