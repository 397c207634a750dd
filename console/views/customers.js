export default { name: 'customers', titleKey: 'nav.customers', visible: () => false, async render() {} };
