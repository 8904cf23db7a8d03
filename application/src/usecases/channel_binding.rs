//! [`ChannelBinding`]: how the use cases learn which community a channel belongs to when no
//! authoritative source knows it.

/// What happens to a channel whose community the directory does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChannelBinding {
    /// It is refused (`unknown_channel`): only the community service's lookup or its
    /// registration places a channel in a community.
    #[default]
    Authoritative,
    /// For a community service that offers neither: the first post in the channel by a member
    /// of the community it names binds the channel to that community, once (set if absent on
    /// every instance). A refused post binds nothing; only the registration endpoint changes
    /// a binding.
    FirstPost,
}
