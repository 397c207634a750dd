# 网络安全事件总结报告：事件处置结束后 30 日内报送。
template 1
kind cac-summary
lang zh-CN

section title
网络安全事件总结报告 编号 {incident}

section overview
{company}于{discovered}发现的{event_type}，涉及 {people} 人的个人信息（{categories}）。现将处置情况总结如下。

section cause
一、事件原因：{cause}

section handling
二、应急处置情况：{handling}

section harm
三、危害后果：{harm}

section accountability
四、责任认定及处理：{accountability}

section remediation
五、整改措施及完成情况：{remediation}

section lessons
六、经验教训：{lessons}
