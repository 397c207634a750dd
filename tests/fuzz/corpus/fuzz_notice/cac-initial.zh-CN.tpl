# 网络安全事件报告（《国家网络安全事件报告管理办法》）：发现后 4 小时内向属地省级网信部门报告。
template 1
kind cac-initial
lang zh-CN

section title
网络安全事件报告（初报） 编号 {incident}

section organisation
一、报告单位及系统：{company}；涉事系统：{system}。

section discovered
二、事件发生及发现时间：事件发生于{from}至{to}；本单位于{discovered}发现。

section event-type
三、事件类型：{event_type}（数据安全事件：个人信息被未经授权访问）。

section grade
四、事件级别：依据《网络安全事件分级指南》，本事件涉及 {people} 人的个人信息（共 {records} 项字段值），研判为{grade}。涉及的个人信息类别：{categories}。

section impact
五、影响和危害：{impact}

section measures-taken
六、已采取的应急处置措施及效果：{measures}

section next-steps
七、下一步工作：完成原因调查与证据固定，依法告知受影响个人，并在事件处置结束后 30 日内报送总结报告。

section contact
八、联系人：{company} 信息安全负责人，电话 {contact_phone}，电子邮箱 {contact_email}。
