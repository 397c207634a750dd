# 《个人信息保护法》第五十七条：向履行个人信息保护职责的部门报告。
template 1
kind pipl-57
lang zh-CN

section title
个人信息安全事件报告 编号 {incident}

section categories
一、涉及的个人信息种类：{categories}；涉及 {people} 人，共 {records} 项字段值。

section cause
二、事件原因：{cause}

section possible-harm
三、可能造成的危害：{harm}

section measures-taken
四、已采取的补救措施：{measures}

section what-people-can-do
五、个人可以采取的减轻危害的措施：{customer_steps}

section contact
六、个人信息处理者的联系方式：{company}，电话 {contact_phone}，电子邮箱 {contact_email}。
