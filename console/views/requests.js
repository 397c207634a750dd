export default { name: 'requests', titleKey: 'nav.requests', visible: () => false, async render() {} };
